// world.h: the small world the demo's data talks about — countries and capitals, animals,
// colors, planets, seasons, people's names — shared by the corpus (what pretraining
// teaches) and the conversations (what SFT asks about), so that an SFT answer is always
// a fact the base model could have read. Tables are static and read-only.
//
// The vocabulary is kept small on purpose: a few-M-parameter model sees each word many
// times in a few MB of text, so it learns facts rather than spelling.
#ifndef PT_DEMO_WORLD_H
#define PT_DEMO_WORLD_H

#include <stdbool.h>

// Arithmetic operands run 1..DEMO_MAX_OPERAND (single and two-digit numbers): the corpus
// states every sum and product of them, SFT uses most pairs, evaluation the rest.
#define DEMO_MAX_OPERAND 12

typedef struct {
    const char *name, *capital;        // "France", "Paris"
    const char *zh_name, *zh_capital;  // "法国", "巴黎"
    const char *continent, *language;
} DemoCountry;

typedef struct {
    const char *name, *plural;  // "cat", "cats"
    const char *sound;          // "meows", or NULL: the animal is quiet
    int legs;
    const char *home, *food, *kind;  // "homes", "fish and meat", "mammal"
    const char *zh;                  // 猫, or NULL
} DemoAnimal;

typedef struct {
    const char *thing, *color;  // "the sky", "blue"
} DemoColorFact;

typedef struct {
    const char *name, *zh, *fact;  // fact completes "Mercury is …"
} DemoPlanet;

typedef struct {
    const char *name, *zh, *weather, *zh_weather, *activity;
} DemoSeason;

extern const DemoCountry demo_countries[];
extern const int demo_n_countries;
extern const DemoAnimal demo_animals[];
extern const int demo_n_animals;
extern const DemoColorFact demo_colors[];
extern const int demo_n_colors;
extern const DemoPlanet demo_planets[];  // in order from the Sun
extern const int demo_n_planets;
extern const DemoSeason demo_seasons[];
extern const int demo_n_seasons;
extern const char *const demo_names[];  // first names for people in stories and forums
extern const int demo_n_names;

// Countries whose capital question is held out of SFT (the corpus still states them):
// evaluation asks these to see pretraining knowledge come through the chat format.
bool demo_country_is_eval(int i);

#endif
