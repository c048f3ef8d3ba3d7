// world.c: the facts behind the demo's corpus and conversations (see world.h).
#include "demo/world.h"

#include <stddef.h>

const DemoCountry demo_countries[] = {
    {"France", "Paris", "法国", "巴黎", "Europe", "French"},
    {"Japan", "Tokyo", "日本", "东京", "Asia", "Japanese"},
    {"Italy", "Rome", "意大利", "罗马", "Europe", "Italian"},
    {"Spain", "Madrid", "西班牙", "马德里", "Europe", "Spanish"},
    {"Germany", "Berlin", "德国", "柏林", "Europe", "German"},
    {"Egypt", "Cairo", "埃及", "开罗", "Africa", "Arabic"},
    {"China", "Beijing", "中国", "北京", "Asia", "Chinese"},
    {"Russia", "Moscow", "俄罗斯", "莫斯科", "Europe", "Russian"},
    {"Canada", "Ottawa", "加拿大", "渥太华", "North America", "English and French"},
    {"Kenya", "Nairobi", "肯尼亚", "内罗毕", "Africa", "Swahili and English"},
    {"Peru", "Lima", "秘鲁", "利马", "South America", "Spanish"},
    {"Greece", "Athens", "希腊", "雅典", "Europe", "Greek"},
    {"Norway", "Oslo", "挪威", "奥斯陆", "Europe", "Norwegian"},
    {"Mexico", "Mexico City", "墨西哥", "墨西哥城", "North America", "Spanish"},
    {"Australia", "Canberra", "澳大利亚", "堪培拉", "Oceania", "English"},
    {"Portugal", "Lisbon", "葡萄牙", "里斯本", "Europe", "Portuguese"},
    {"Poland", "Warsaw", "波兰", "华沙", "Europe", "Polish"},
    {"Turkey", "Ankara", "土耳其", "安卡拉", "Asia", "Turkish"},
    {"Brazil", "Brasilia", "巴西", "巴西利亚", "South America", "Portuguese"},
    {"India", "New Delhi", "印度", "新德里", "Asia", "Hindi and English"},
    {"Ireland", "Dublin", "爱尔兰", "都柏林", "Europe", "English and Irish"},
    {"Sweden", "Stockholm", "瑞典", "斯德哥尔摩", "Europe", "Swedish"},
    {"Thailand", "Bangkok", "泰国", "曼谷", "Asia", "Thai"},
    {"Chile", "Santiago", "智利", "圣地亚哥", "South America", "Spanish"},
};
const int demo_n_countries = sizeof demo_countries / sizeof *demo_countries;

// Every fourth country: Spain, Russia, Greece, Portugal, India, Chile.
bool demo_country_is_eval(int i) { return i % 4 == 3; }

const DemoAnimal demo_animals[] = {
    {"cat", "cats", "meows", 4, "houses", "fish and meat", "mammal", "猫"},
    {"dog", "dogs", "barks", 4, "houses", "meat", "mammal", "狗"},
    {"cow", "cows", "moos", 4, "farms", "grass", "mammal", "牛"},
    {"horse", "horses", "neighs", 4, "farms", "grass and hay", "mammal", "马"},
    {"sheep", "sheep", "bleats", 4, "farms", "grass", "mammal", "羊"},
    {"lion", "lions", "roars", 4, "the savanna", "meat", "mammal", "狮子"},
    {"elephant", "elephants", "trumpets", 4, "the savanna", "grass and fruit", "mammal", "大象"},
    {"whale", "whales", NULL, 0, "the ocean", "krill", "mammal", "鲸鱼"},
    {"duck", "ducks", "quacks", 2, "ponds", "seeds and bugs", "bird", "鸭子"},
    {"chicken", "chickens", "clucks", 2, "farms", "seeds", "bird", "鸡"},
    {"owl", "owls", "hoots", 2, "forests", "mice", "bird", NULL},
    {"penguin", "penguins", NULL, 2, "cold places", "fish", "bird", "企鹅"},
    {"shark", "sharks", NULL, 0, "the ocean", "fish", "fish", NULL},
    {"salmon", "salmon", NULL, 0, "rivers and the sea", "small fish", "fish", NULL},
    {"frog", "frogs", "croaks", 4, "ponds", "insects", "amphibian", "青蛙"},
    {"snake", "snakes", "hisses", 0, "grass and rocks", "mice", "reptile", "蛇"},
    {"turtle", "turtles", NULL, 4, "lakes and the sea", "plants", "reptile", NULL},
    {"bee", "bees", "buzzes", 6, "hives", "nectar", "insect", NULL},
    {"ant", "ants", NULL, 6, "nests", "seeds and crumbs", "insect", NULL},
    {"spider", "spiders", NULL, 8, "gardens", "insects", "arachnid", NULL},
};
const int demo_n_animals = sizeof demo_animals / sizeof *demo_animals;

const DemoColorFact demo_colors[] = {
    {"the sky", "blue"},      {"grass", "green"},     {"snow", "white"},
    {"a banana", "yellow"},   {"a tomato", "red"},    {"an orange", "orange"},
    {"coal", "black"},        {"chocolate", "brown"}, {"a lemon", "yellow"},
    {"a strawberry", "red"},  {"a leaf", "green"},    {"milk", "white"},
    {"a carrot", "orange"},   {"a grape", "purple"},  {"the ocean", "blue"},
    {"a cherry", "red"},
};
const int demo_n_colors = sizeof demo_colors / sizeof *demo_colors;

const DemoPlanet demo_planets[] = {
    {"Mercury", "水星", "the closest planet to the Sun"},
    {"Venus", "金星", "the hottest planet"},
    {"Earth", "地球", "our home and the only planet with life that we know of"},
    {"Mars", "火星", "the red planet"},
    {"Jupiter", "木星", "the largest planet"},
    {"Saturn", "土星", "famous for its rings"},
    {"Uranus", "天王星", "tilted on its side"},
    {"Neptune", "海王星", "the farthest planet from the Sun"},
};
const int demo_n_planets = sizeof demo_planets / sizeof *demo_planets;

const DemoSeason demo_seasons[] = {
    {"spring", "春天", "warm and rainy", "温暖", "plant flowers"},
    {"summer", "夏天", "hot and sunny", "炎热", "swim in the sea"},
    {"autumn", "秋天", "cool and windy", "凉爽", "collect leaves"},
    {"winter", "冬天", "cold and snowy", "寒冷", "build a snowman"},
};
const int demo_n_seasons = sizeof demo_seasons / sizeof *demo_seasons;

const char *const demo_names[] = {"Tom", "Anna", "Sam", "Lily", "Ben", "Mia",
                                  "Leo", "Zoe", "Max", "Emma", "Jack", "Nora"};
const int demo_n_names = sizeof demo_names / sizeof *demo_names;
