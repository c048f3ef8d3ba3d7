// corpus.c: the demo's synthetic web pages (see corpus.h). Each page kind is one function
// that writes a page from a seeded generator; demo_corpus_each draws a kind per page with
// fixed weights. Arithmetic gets about 40% of the pages: a tiny model has to see every
// "a + b = c" many times to recall it later, when SFT asks for it in the chat format.
#include "demo/corpus.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "data/rng.h"
#include "demo/world.h"

typedef struct {
    Rng r;
    Buf b;
    int oom;  // sticky: a failed append is reported once, at the end of the page
} Page;

__attribute__((format(printf, 2, 3))) static void put(Page *p, const char *fmt, ...) {
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp || buf_append(&p->b, tmp, (size_t)n)) p->oom = 1;
}

static int below(Page *p, int n) { return (int)rng_below(&p->r, (uint64_t)n); }
static const char *pick(Page *p, const char *const *a, int n) { return a[below(p, n)]; }
#define PICK(p, a) pick((p), (a), (int)(sizeof(a) / sizeof *(a)))
static int operand(Page *p) { return 1 + below(p, DEMO_MAX_OPERAND); }
static const char *an(const char *word) { return strchr("aeiou", word[0]) ? "an" : "a"; }

static const char *const sites[] = {"KidsFacts", "LearnHub", "WorldWiki", "EasyMath",
                                    "FunScience", "DailyPage", "StudyCorner"};
static const char *const days[] = {"Monday", "Tuesday", "Wednesday", "Thursday",
                                   "Friday", "Saturday", "Sunday"};

// A forum handle like "tom_42" or "lily99".
static void handle(Page *p, char *out, size_t n) {
    const char *name = demo_names[below(p, demo_n_names)];
    char low[16];
    size_t i = 0;
    for (; name[i] && i < sizeof low - 1; i++) low[i] = (char)(name[i] | 0x20);
    low[i] = 0;
    snprintf(out, n, below(p, 2) ? "%s_%d" : "%s%d", low, below(p, 100));
}

// --- arithmetic ---------------------------------------------------------------------

// One fact in one of the spellings a web page uses; op is '+' or 'x'.
static void fact(Page *p, int a, int b, char op, int style) {
    int c = op == '+' ? a + b : a * b;
    const char *sym = op == '+' ? "+" : "×", *word = op == '+' ? "plus" : "times";
    switch (style) {
    case 0: put(p, "%d %s %d = %d", a, sym, b, c); break;
    case 1: put(p, "%d%s%d=%d", a, sym, b, c); break;
    default: put(p, "%d %s %d is %d", a, word, b, c); break;
    }
}

static void page_table(Page *p, char op) {
    int n = operand(p), style = below(p, 4) == 0 ? 1 : 0;
    const char *what = op == '+' ? "Addition" : "Multiplication";
    put(p, "%s table of %d\n\n", what, n);
    if (below(p, 2)) put(p, "Learn the %s table of %d by heart. ", op == '+' ? "addition" : "times", n);
    put(p, "Here are all the %s from %d to %d.\n\n", op == '+' ? "sums" : "products", 1,
        DEMO_MAX_OPERAND);
    bool swap = below(p, 3) == 0;  // "3 × 7" as often as "7 × 3" over many pages
    for (int k = 1; k <= DEMO_MAX_OPERAND; k++) {
        fact(p, swap ? k : n, swap ? n : k, op, style);
        put(p, "\n");
    }
    put(p, "\nFrom %s, your page for easy math.\n", PICK(p, sites));
}

static void page_practice(Page *p) {
    static const char *const titles[] = {"Math practice sheet", "Quick math quiz",
                                         "Answer key: sums and products", "Mental math drill"};
    put(p, "%s %d\n\n", PICK(p, titles), 1 + below(p, 40));
    int n = 8 + below(p, 10);
    for (int i = 0; i < n; i++) {
        put(p, "%d. ", i + 1);
        fact(p, operand(p), operand(p), below(p, 2) ? '+' : 'x', below(p, 3));
        put(p, "\n");
    }
    put(p, "\nCheck your answers and try again tomorrow.\n");
}

static void page_word_problems(Page *p) {
    static const char *const things[] = {"apples", "books", "stickers", "marbles", "cookies",
                                         "pencils", "flowers", "coins"};
    put(p, "Word problems with %s\n\n", below(p, 2) ? "sums" : "answers");
    int n = 2 + below(p, 3);
    for (int i = 0; i < n; i++) {
        const char *who = demo_names[below(p, demo_n_names)];
        const char *other = demo_names[below(p, demo_n_names)];
        const char *thing = PICK(p, things);
        int a = operand(p), b = operand(p);
        switch (below(p, 3)) {
        case 0:
            put(p, "%s has %d %s. %s gives %s %d more. How many %s does %s have now? "
                   "We add: %d + %d = %d. So %s has %d %s.\n\n",
                who, a, thing, other, who, b, thing, who, a, b, a + b, who, a + b, thing);
            break;
        case 1:
            put(p, "There are %d boxes with %d %s in each box. How many %s are there? "
                   "We multiply: %d × %d = %d. There are %d %s.\n\n",
                a, b, thing, thing, a, b, a * b, a * b, thing);
            break;
        default:
            put(p, "%s buys %d bags of %s. Each bag has %d %s. That is %d times %d, "
                   "which is %d %s in all.\n\n",
                who, a, thing, b, thing, a, b, a * b, thing);
            break;
        }
    }
}

// --- articles and pages about the world ---------------------------------------------

static void page_country(Page *p) {
    const DemoCountry *c = &demo_countries[below(p, demo_n_countries)];
    put(p, "%s\n\n", c->name);
    put(p, "%s is a country in %s. The capital of %s is %s. ", c->name, c->continent, c->name,
        c->capital);
    put(p, "People in %s speak %s. %s is a big city with many parks.\n\n", c->name,
        c->language, c->capital);
    const DemoSeason *s = &demo_seasons[below(p, demo_n_seasons)];
    put(p, "Many tourists visit %s every year. In %s you can see old streets, parks and "
           "museums. The best time to visit is %s, when the weather is %s.\n",
        c->capital, c->capital, s->name, s->weather);
    put(p, "\nSee also: %s, %s.\n", demo_countries[below(p, demo_n_countries)].name,
        demo_countries[below(p, demo_n_countries)].name);
}

static void page_capitals_list(Page *p) {
    put(p, "Countries and their capitals\n\n");
    int start = below(p, demo_n_countries), n = 6 + below(p, 8);
    for (int i = 0; i < n; i++) {
        const DemoCountry *c = &demo_countries[(start + i * 5) % demo_n_countries];
        put(p, below(p, 2) ? "- %s: %s\n" : "- The capital of %s is %s.\n", c->name, c->capital);
    }
}

static void page_animal(Page *p) {
    const DemoAnimal *a = &demo_animals[below(p, demo_n_animals)];
    put(p, "All about the %s\n\n", a->name);
    put(p, "The %s is %s %s. ", a->name, an(a->kind), a->kind);
    if (a->legs) put(p, "%c%s %s has %d legs. ", an(a->name)[0] & ~0x20, an(a->name) + 1, a->name,
                     a->legs);
    else put(p, "%c%s %s has no legs. ", an(a->name)[0] & ~0x20, an(a->name) + 1, a->name);
    put(p, "%c%s live in %s and eat %s.", a->plural[0] - 32, a->plural + 1, a->home, a->food);
    if (a->sound) put(p, " A %s %s.", a->name, a->sound);
    put(p, "\n\nFun fact: children love to learn about %s. Which animal do you like best?\n",
        a->plural);
}

static void page_planet(Page *p) {
    int i = below(p, demo_n_planets);
    const DemoPlanet *pl = &demo_planets[i];
    static const char *const nth[] = {"first", "second", "third", "fourth",
                                      "fifth", "sixth", "seventh", "eighth"};
    put(p, "%s\n\n%s is the %s planet from the Sun. %s is %s.", pl->name, pl->name, nth[i],
        pl->name, pl->fact);
    put(p, " There are %d planets in our solar system: ", demo_n_planets);
    for (int k = 0; k < demo_n_planets; k++)
        put(p, "%s%s", demo_planets[k].name, k + 1 < demo_n_planets ? ", " : ".\n");
}

static void page_season(Page *p) {
    const DemoSeason *s = &demo_seasons[below(p, demo_n_seasons)];
    put(p, "What to do in %s\n\n", s->name);
    put(p, "There are four seasons: spring, summer, autumn and winter. In %s the weather is "
           "%s. A good thing to do in %s is to %s.\n",
        s->name, s->weather, s->name, s->activity);
}

// A question-and-answer web page: "Q:"/"A:" lines, never the chat protocol.
static void page_faq(Page *p) {
    put(p, "Frequently asked questions - %s\n\n", PICK(p, sites));
    int n = 3 + below(p, 4);
    for (int i = 0; i < n; i++) {
        int k = below(p, 5);
        if (k == 0) {
            const DemoCountry *c = &demo_countries[below(p, demo_n_countries)];
            put(p, "Q: What is the capital of %s?\nA: The capital of %s is %s.\n\n", c->name,
                c->name, c->capital);
        } else if (k == 1) {
            const DemoColorFact *c = &demo_colors[below(p, demo_n_colors)];
            put(p, "Q: What color is %s?\nA: %c%s is %s.\n\n", c->thing, c->thing[0] & ~0x20,
                c->thing + 1, c->color);
        } else if (k == 2) {
            const DemoAnimal *a = &demo_animals[below(p, demo_n_animals)];
            put(p, "Q: How many legs does %s %s have?\nA: ", an(a->name), a->name);
            if (a->legs) put(p, "It has %d legs.\n\n", a->legs);
            else put(p, "It has no legs.\n\n");
        } else if (k == 3) {
            int a = operand(p), b = operand(p);
            put(p, "Q: What is %d + %d?\nA: %d + %d = %d.\n\n", a, b, a, b, a + b);
        } else {
            int a = operand(p), b = operand(p);
            put(p, "Q: What is %d times %d?\nA: %d × %d = %d.\n\n", a, b, a, b, a * b);
        }
    }
}

// A forum thread: a question, then replies that answer, agree and chat.
static void page_forum(Page *p) {
    static const char *const boards[] = {"Homework Help", "General Chat", "Science Club",
                                         "Travel Talk", "Kitchen Corner", "Computer Help"};
    static const char *const chatter[] = {
        "lol just use a calculator", "thanks, that helped a lot!", "same question here",
        "I learned this at school last week.", "Good question, I always forget it.",
        "this forum is the best", "can someone explain it again?"};
    char who[32], who2[32];
    handle(p, who, sizeof who);
    int k = below(p, 6);
    char q[256], ans[256];
    int a = operand(p), b = operand(p);
    if (k == 0) {
        snprintf(q, sizeof q, "what is %d + %d?", a, b);
        snprintf(ans, sizeof ans, "%d + %d = %d", a, b, a + b);
    } else if (k == 1) {
        snprintf(q, sizeof q, "what is %d times %d??", a, b);
        snprintf(ans, sizeof ans, "%d × %d = %d", a, b, a * b);
    } else if (k == 2) {
        const DemoCountry *c = &demo_countries[below(p, demo_n_countries)];
        snprintf(q, sizeof q, "What is the capital of %s?", c->name);
        snprintf(ans, sizeof ans, "The capital of %s is %s.", c->name, c->capital);
    } else if (k == 3) {
        const DemoAnimal *a_ = &demo_animals[below(p, demo_n_animals)];
        snprintf(q, sizeof q, "how many legs does %s %s have", an(a_->name), a_->name);
        if (a_->legs) snprintf(ans, sizeof ans, "It has %d legs.", a_->legs);
        else snprintf(ans, sizeof ans, "It has no legs at all.");
    } else if (k == 4) {
        snprintf(q, sizeof q, "How do I kill a process in Linux?");
        snprintf(ans, sizeof ans, "Use the kill command with the process id, like kill 1234.");
    } else {
        snprintf(q, sizeof q, "how do I make a cake?");
        snprintf(ans, sizeof ans, "Mix flour, sugar, eggs and butter, then bake it for 30 "
                                  "minutes.");
    }
    put(p, "Forum > %s\nThread: %s\n\n%s wrote:\n%s %s\n\n", PICK(p, boards), q, who, q,
        below(p, 2) ? "I need it for my homework." : "Please help.");
    int n = 1 + below(p, 4);
    for (int i = 0; i < n; i++) {
        handle(p, who2, sizeof who2);
        if (i == 0) put(p, "%s wrote:\n%s\n\n", who2, ans);
        else put(p, "%s wrote:\n%s\n\n", who2, PICK(p, chatter));
    }
    put(p, n == 1 ? "[%d reply]\n" : "[%d replies]\n", n);
}

static void page_tips(Page *p) {
    static const char *const goals[] = {"better sleep", "learning math", "a happy garden",
                                        "a tidy room", "making friends", "staying healthy"};
    static const char *const tips[][6] = {
        {"Go to bed at the same time every day.", "Keep your room dark and quiet.",
         "Do not drink coffee in the evening.", "Read a book before bed.",
         "Put your phone away.", "Get some sun in the morning."},
        {"Practice a little every day.", "Learn the times tables by heart.",
         "Check your answers.", "Use apples or coins to count.",
         "Ask questions when you are stuck.", "Play math games with friends."},
        {"Water your plants in the morning.", "Plant flowers in spring.",
         "Pull weeds every week.", "Give your plants sun.", "Use good soil.",
         "Collect leaves in autumn."},
        {"Put things back where they belong.", "Clean a little every day.",
         "Give away what you do not use.", "Make your bed every morning.",
         "Use boxes for small things.", "Open the window for fresh air."},
        {"Say hello and smile.", "Ask people about their day.", "Be kind and listen.",
         "Join a club.", "Share your snacks.", "Say thank you."},
        {"Eat fruit and vegetables.", "Drink water.", "Walk every day.",
         "Sleep eight hours.", "Play outside.", "Wash your hands."}};
    int g = below(p, 6), n = 3 + below(p, 4);
    put(p, "%d tips for %s\n\n", n, goals[g]);
    int start = below(p, 6);
    for (int i = 0; i < n; i++) put(p, "%d. %s\n", i + 1, tips[g][(start + i) % 6]);
    put(p, "\nDo you have more tips? Leave a comment below!\n");
}

static void page_recipe(Page *p) {
    static const char *const dishes[] = {"cake", "pancakes", "tomato soup", "fruit salad",
                                         "cookies", "bread"};
    static const char *const stuff[] = {"flour", "sugar", "eggs", "milk", "butter", "salt",
                                        "tomatoes", "apples", "bananas", "water"};
    static const char *const units[] = {"cups", "spoons", "pieces"};
    const char *d = PICK(p, dishes);
    put(p, "Easy %s recipe\n\nIngredients:\n", d);
    int n = 3 + below(p, 3), s = below(p, 10);
    for (int i = 0; i < n; i++)
        put(p, "- %d %s of %s\n", 2 + below(p, 3), PICK(p, units), stuff[(s + i * 3) % 10]);
    put(p, "\nSteps:\n1. Mix everything in a big bowl.\n2. %s\n3. Serve and enjoy your %s!\n",
        below(p, 2) ? "Bake it in the oven for 30 minutes." : "Cook it for 10 minutes.", d);
}

static void page_news(Page *p) {
    static const char *const places[] = {"park", "library", "school", "museum", "bridge",
                                         "zoo"};
    const DemoCountry *c = &demo_countries[below(p, demo_n_countries)];
    const char *place = PICK(p, places), *day = PICK(p, days);
    put(p, "%s news, %s\n\n", c->capital, day);
    put(p, "%s opened a new %s on %s. Many families came to see it. ", c->capital, place, day);
    put(p, "The mayor said the %s will be open every day. %s is the capital of %s.\n", place,
        c->capital, c->name);
}

// --- Chinese pages -------------------------------------------------------------------

static void page_chinese(Page *p) {
    switch (below(p, 4)) {
    case 0:
        put(p, "世界各国的首都\n\n");
        for (int i = 0, n = 4 + below(p, 6); i < n; i++) {
            const DemoCountry *c = &demo_countries[below(p, demo_n_countries)];
            put(p, "%s是%s的首都。", c->zh_capital, c->zh_name);
        }
        put(p, "\n");
        break;
    case 1: {
        bool mul = below(p, 2);
        put(p, "小学数学：%s练习\n\n", mul ? "乘法" : "加法");
        for (int i = 0, n = 6 + below(p, 6); i < n; i++) {
            int a = operand(p), b = operand(p);
            if (below(p, 2)) put(p, "%d%s%d等于%d\n", a, mul ? "乘" : "加", b, mul ? a * b : a + b);
            else put(p, "%d%s%d=%d\n", a, mul ? "×" : "+", b, mul ? a * b : a + b);
        }
        break;
    }
    case 2:
        put(p, "认识动物\n\n");
        for (int i = 0, n = 3 + below(p, 4); i < n; i++) {
            const DemoAnimal *a = &demo_animals[below(p, demo_n_animals)];
            if (!a->zh) continue;
            if (a->legs) put(p, "%s是一种动物。%s有%d条腿。", a->zh, a->zh, a->legs);
            else put(p, "%s是一种动物。%s没有腿。", a->zh, a->zh);
        }
        put(p, "\n");
        break;
    default: {
        const DemoSeason *s = &demo_seasons[below(p, demo_n_seasons)];
        const DemoPlanet *pl = &demo_planets[below(p, demo_n_planets)];
        put(p, "一年有四个季节：春天、夏天、秋天和冬天。%s的天气很%s。\n%s是太阳系的一颗行星。\n",
            s->zh, s->zh_weather, pl->zh);
        break;
    }
    }
}

typedef void (*PageFn)(Page *p);
static void page_add_table(Page *p) { page_table(p, '+'); }
static void page_mul_table(Page *p) { page_table(p, 'x'); }

// Page kinds and their weights (percent).
static const struct {
    PageFn fn;
    int weight;
} kinds[] = {
    {page_add_table, 10}, {page_mul_table, 10}, {page_practice, 11}, {page_word_problems, 8},
    {page_country, 6},    {page_capitals_list, 3}, {page_animal, 5},  {page_planet, 2},
    {page_season, 2},     {page_faq, 8},       {page_forum, 12},     {page_tips, 5},
    {page_recipe, 4},     {page_news, 5},      {page_chinese, 9},
};

// extra: bytes the caller adds after each page (demo_corpus's separator), so that
// `bytes` counts what the caller ends up holding.
static int corpus_run(uint64_t seed, size_t bytes, size_t extra, DemoDocFn fn, void *ctx,
                      Err *e) {
    int total = 0;
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) total += kinds[k].weight;
    Page p = {0};
    int rc = 0;
    for (uint64_t i = 0, done = 0; done < bytes && rc == 0; i++) {
        rng_seed(&p.r, rng_mix(seed, i));
        p.b.len = 0;
        p.oom = 0;
        int w = (int)rng_below(&p.r, (uint64_t)total);
        size_t k = 0;
        while (w >= kinds[k].weight) w -= kinds[k++].weight;
        kinds[k].fn(&p);
        if (p.oom) rc = ERR(e, ERR_NOMEM, "demo corpus: out of memory");
        else if (fn(ctx, p.b.data, p.b.len, e)) rc = -1;
        done += p.b.len + extra;
    }
    buf_free(&p.b);
    return rc;
}

int demo_corpus_each(uint64_t seed, size_t bytes, DemoDocFn fn, void *ctx, Err *e) {
    return corpus_run(seed, bytes, 0, fn, ctx, e);
}

static int append_doc(void *ctx, const char *text, size_t len, Err *e) {
    Buf *out = ctx;
    if (buf_append(out, text, len) || buf_append(out, DEMO_DOC_SEP, sizeof DEMO_DOC_SEP - 1))
        return ERR(e, ERR_NOMEM, "demo corpus: out of memory");
    return 0;
}

int demo_corpus(uint64_t seed, size_t bytes, Buf *out, Err *e) {
    return corpus_run(seed, bytes, sizeof DEMO_DOC_SEP - 1, append_doc, out, e);
}
