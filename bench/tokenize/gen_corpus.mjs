// gen_corpus.mjs: writes the tokenizer benchmark corpus, deterministically.
//
//   node bench/tokenize/gen_corpus.mjs OUT_FILE [MEGABYTES] [SEED]
//
// The corpus is a mix of the kinds of text a post-training data pipeline sees: English
// prose (Zipf-distributed vocabulary with made-up derived words for a long tail), source
// code in several languages, CSV/Markdown tables and numbers, pretty and minified JSON,
// Chinese, a dozen other scripts (some without spaces), logs with aligned whitespace, and
// a few long no-space runs (base64 blobs, hex dumps). Documents are separated by one
// ASCII record separator byte (0x1E), which never occurs inside a document; the
// benchmark drivers split on it and encode each document on its own.
//
// Everything comes from one seeded generator, so the same SEED gives the same bytes on
// any machine and Node version.
import { writeFileSync } from "node:fs";

const out = process.argv[2];
const megabytes = Number(process.argv[3] || 12);
const seed = Number(process.argv[4] || 20240611);
if (!out) {
    console.error("usage: node gen_corpus.mjs OUT_FILE [MEGABYTES] [SEED]");
    process.exit(2);
}

// ---- randomness -----------------------------------------------------------------------
// A 32-bit state mixer (multiply/xor-shift rounds over a Weyl sequence): fast, good enough
// for text generation, and fully determined by the seed.
let weyl = seed >>> 0;
function rnd32() {
    weyl = (weyl + 0x9e3779b9) >>> 0;
    let z = weyl;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
}
const rand = () => rnd32() / 4294967296;
const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1)); // inclusive
const pick = (a) => a[Math.floor(rand() * a.length)];
const chance = (p) => rand() < p;
// Roughly Zipf: index density ~ 1/x, so the first words are much more common.
const zipf = (a) => a[Math.min(a.length - 1, Math.floor(Math.exp(rand() * Math.log(a.length + 1))) - 1)];

// ---- vocabulary -----------------------------------------------------------------------
const COMMON = `the of and to a in is it you that he was for on are with as I his they be at one
have this from or had by not word but what some we can out other were all there when up use
your how said an each she which do their time if will way about many then them write would
like so these her long make thing see him two has look more day could go come did number sound
no most people my over know water than call first who may down side been now find any new work
part take get place made live where after back little only round man year came show every good
me give our under name very through just form sentence great think say help low line differ
turn cause much mean before move right boy old too same tell does set three want air well also
play small end put home read hand port large spell add even land here must big high such follow
act why ask men change went light kind off need house picture try us again animal point mother
world near build self earth father head stand own page should country found answer school grow
study still learn plant cover food sun four between state keep eye never last let thought city
tree cross farm hard start might story saw far sea draw left late run don't while press close
night real life few north open seem together next white children begin got walk example ease
paper group always music those both mark often letter until mile river car feet care second
book carry took science eat room friend began idea fish mountain stop once base hear horse cut
sure watch color face wood main enough plain girl usual young ready above ever red list though
feel talk bird soon body dog family direct pose leave song measure door product black short
numeral class wind question happen complete ship area half rock order fire south problem piece
told knew pass since top whole king space heard best hour better true during hundred five
remember step early hold west ground interest reach fast verb sing listen six table travel less
morning ten simple several vowel toward war lay against pattern slow center love person money
serve appear road map rain rule govern pull cold notice voice unit power town fine certain fly
fall lead cry dark machine note wait plan figure star box noun field rest correct able pound
done beauty drive stood contain front teach week final gave green oh quick develop ocean warm
free minute strong special mind behind clear tail produce fact street inch multiply nothing
course stay wheel full force blue object decide surface deep moon island foot system busy test
record boat common gold possible plane stead dry wonder laugh thousand ago ran check game shape
equate hot miss brought heat snow tire bring yes distant fill east paint language among model
training gradient loss dataset token tokenizer evaluation benchmark policy reward preference
alignment inference latency throughput checkpoint optimizer learning rate batch epoch sequence
attention transformer embedding layer weight parameter fine-tuning`.split(/\s+/);

const PREFIX = ["", "", "", "re", "un", "in", "de", "pre", "con", "trans", "sub", "inter", "over",
    "counter", "micro", "multi", "non", "anti", "dis", "mis", "post", "super", "auto", "co"];
const ROOT = ["struct", "port", "dict", "graph", "log", "scop", "form", "ject", "spect", "tract",
    "vert", "duct", "scrib", "mit", "cept", "pend", "press", "fer", "sist", "vis", "ven", "plic",
    "stat", "norm", "lumin", "cogn", "mort", "phon", "chron", "therm", "hydr", "geo", "bio",
    "morph", "path", "tens", "flect", "gress", "rupt", "val", "fac", "cap", "sequ", "volv"];
const SUFFIX = ["ion", "ive", "able", "ment", "ness", "ity", "al", "ize", "ing", "ed", "er", "ly",
    "ation", "ure", "ous", "ant", "ence", "ism", "ist", "ical", "ify", "ory", "ible", "ial"];
const RARE = [];
for (let i = 0; i < 4000; i++) RARE.push(pick(PREFIX) + pick(ROOT) + pick(SUFFIX) + (chance(0.2) ? pick(SUFFIX) : ""));
const NAMES = ["Alice", "Bob", "Carol", "Dmitri", "Eun-ji", "Fatima", "Guillaume", "Hiroshi",
    "Ingrid", "José", "Kwame", "Lakshmi", "Mateo", "Nadia", "Oluwaseun", "Priya", "Quentin",
    "Rosalind", "Søren", "Thandiwe", "Ulrich", "Valentina", "Wei", "Ximena", "Yusuf", "Zoë",
    "London", "Nairobi", "São Paulo", "Reykjavík", "Kraków", "Montréal", "Zürich", "Seoul",
    "GitHub", "PyTorch", "Linux", "Kubernetes", "PostgreSQL", "OpenAI", "NVIDIA", "McDonald"];
const WORDS = COMMON.concat(RARE);

function word() {
    const w = chance(0.8) ? zipf(COMMON) : pick(RARE);
    if (chance(0.02)) return w.toUpperCase();
    return w;
}

// ---- English prose ----------------------------------------------------------------------
function number() {
    switch (int(0, 7)) {
        case 0: return String(int(1900, 2031));
        case 1: return int(0, 100) + "%";
        case 2: return "$" + int(1, 9999) + (chance(0.5) ? "." + String(int(0, 99)).padStart(2, "0") : "");
        case 3: return (rand() * 1000).toFixed(int(1, 4));
        case 4: return int(1, 1e6).toLocaleString("en-US");
        case 5: return int(1, 31) + "/" + int(1, 12) + "/" + int(1990, 2030);
        case 6: return String(int(2, 99));
        default: return int(1, 12) + ":" + String(int(0, 59)).padStart(2, "0") + (chance(0.5) ? " am" : " pm");
    }
}

function sentence() {
    const n = int(4, 28);
    const parts = [];
    for (let i = 0; i < n; i++) {
        let w;
        const r = rand();
        if (r < 0.05) w = pick(NAMES);
        else if (r < 0.09) w = number();
        else w = word();
        if (i === 0) w = w[0].toUpperCase() + w.slice(1);
        if (chance(0.03)) w = w + pick(["'s", "'re", "'ve", "'ll", "'d", "n't"]);
        if (chance(0.02)) w = '"' + w + '"';
        else if (chance(0.015)) w = "(" + w + ")";
        if (i < n - 1 && chance(0.08)) w += pick([",", ",", ",", ";", ":", " —", " -"]);
        parts.push(w);
    }
    return parts.join(" ") + pick([".", ".", ".", ".", "?", "!", "...", ".\u201d"]);
}

function paragraph() {
    const n = int(1, 9);
    const s = [];
    for (let i = 0; i < n; i++) s.push(sentence());
    return s.join(chance(0.9) ? " " : "  ");
}

function prose() {
    const parts = [];
    if (chance(0.4)) parts.push("#".repeat(int(1, 3)) + " " + sentence().replace(/[.?!]+$/, ""));
    const n = int(2, 14);
    for (let i = 0; i < n; i++) {
        if (chance(0.12)) {
            const items = [];
            const ordered = chance(0.5);
            for (let k = 0, m = int(2, 7); k < m; k++)
                items.push((ordered ? k + 1 + ". " : pick(["- ", "* ", "  - "])) + sentence());
            parts.push(items.join("\n"));
        } else if (chance(0.05)) {
            parts.push("> " + paragraph());
        } else {
            parts.push(paragraph());
        }
    }
    return parts.join(chance(0.85) ? "\n\n" : "\n");
}

// ---- source code --------------------------------------------------------------------------
const ident = (style) => {
    const k = int(1, 3), ws = [];
    for (let i = 0; i < k; i++) ws.push(pick(WORDS).replace(/[^a-z]/gi, "").toLowerCase() || "x");
    if (style === "camel") return ws[0] + ws.slice(1).map((w) => w[0].toUpperCase() + w.slice(1)).join("");
    if (style === "pascal") return ws.map((w) => w[0].toUpperCase() + w.slice(1)).join("");
    if (style === "upper") return ws.join("_").toUpperCase();
    return ws.join("_");
};
const literal = () => pick([
    () => String(int(0, 100)), () => String(int(0, 65535)), () => "0x" + rnd32().toString(16),
    () => (rand() * 10).toFixed(3), () => '"' + sentence().slice(0, int(5, 40)) + '"',
    () => "'" + ident("snake") + "'", () => "None", () => "true", () => "1e-" + int(3, 9)])();

function pythonCode() {
    const lines = [];
    if (chance(0.6)) lines.push(`import ${pick(["os", "sys", "json", "math", "torch", "numpy as np", "re"])}`, "");
    for (let f = 0, nf = int(1, 4); f < nf; f++) {
        const args = Array.from({ length: int(0, 4) }, () => ident("snake"));
        lines.push(`def ${ident("snake")}(${args.join(", ")}):`);
        lines.push(`    """${sentence()}"""`);
        let depth = 1;
        for (let i = 0, n = int(3, 20); i < n; i++) {
            const ind = "    ".repeat(depth);
            const r = rand();
            if (r < 0.15 && depth < 4) {
                lines.push(`${ind}${pick(["if", "while", "for x in"])} ${ident("snake")} ${pick(["<", ">=", "==", "in", "is not"])} ${literal()}:`);
                depth++;
            } else if (r < 0.25 && depth > 1) {
                depth--;
                lines.push(`${"    ".repeat(depth)}return ${ident("snake")}`);
            } else if (r < 0.35) {
                lines.push(`${ind}# ${sentence()}`);
            } else if (r < 0.42) {
                lines.push("");
            } else {
                lines.push(`${ind}${ident("snake")} ${pick(["=", "+=", "-=", "*="])} ${ident("snake")}(${literal()}, ${ident("snake")}=${literal()})`);
            }
        }
        lines.push("", "");
    }
    return lines.join("\n");
}

function cCode() {
    const lines = [`#include <${pick(["stdio.h", "stdlib.h", "string.h", "stdint.h"])}>`, ""];
    for (let f = 0, nf = int(1, 4); f < nf; f++) {
        lines.push(`// ${sentence()}`);
        lines.push(`static ${pick(["int", "size_t", "void", "double", "uint32_t"])} ${ident("snake")}(${pick(["const char *s, size_t n", "int a, int b", "void", "struct ctx *c"])}) {`);
        let depth = 1;
        for (let i = 0, n = int(3, 18); i < n; i++) {
            const ind = "\t".repeat(depth);
            const r = rand();
            if (r < 0.15 && depth < 4) {
                lines.push(`${ind}for (size_t i = 0; i < ${ident("snake")}; i++) {`);
                depth++;
            } else if (r < 0.27 && depth > 1) {
                depth--;
                lines.push(`${"\t".repeat(depth)}}`);
            } else if (r < 0.35) {
                lines.push(`${ind}/* ${sentence()} */`);
            } else {
                lines.push(`${ind}${ident("snake")}[${int(0, 255)}] ${pick(["=", "+=", "^=", "|="])} ${ident("snake")} ${pick(["<<", "&", "*", "+"])} ${int(0, 1 << 20)};`);
            }
        }
        while (depth-- > 0) lines.push("\t".repeat(depth) + "}");
        lines.push("");
    }
    return lines.join("\n");
}

function jsCode() {
    const lines = [];
    for (let f = 0, nf = int(1, 4); f < nf; f++) {
        lines.push(`export ${pick(["async function", "function"])} ${ident("camel")}(${ident("camel")}, { ${ident("camel")} = ${literal()} } = {}) {`);
        for (let i = 0, n = int(2, 14); i < n; i++) {
            const r = rand();
            if (r < 0.2) lines.push(`  const ${ident("camel")} = await fetch(\`/api/v${int(1, 3)}/${ident("snake")}?id=\${${ident("camel")}}\`);`);
            else if (r < 0.35) lines.push(`  // ${sentence()}`);
            else if (r < 0.5) lines.push(`  if (${ident("camel")} !== ${literal()}) return ${ident("camel")}.map((x) => x * ${int(2, 9)});`);
            else lines.push(`  ${ident("camel")}.${ident("camel")}(${literal()});`);
        }
        lines.push("}", "");
    }
    return lines.join("\n");
}

const code = () => pick([pythonCode, cCode, jsCode, pythonCode])();

// ---- numbers and tables ---------------------------------------------------------------
function csvTable() {
    const cols = int(3, 9);
    const head = Array.from({ length: cols }, () => ident("snake"));
    const rows = [head.join(",")];
    for (let r = 0, n = int(10, 120); r < n; r++) {
        rows.push(head.map((_, c) => (c === 0 ? String(r + 1) : chance(0.7) ? (rand() * 10 ** int(0, 6)).toFixed(int(0, 4)) : pick(COMMON))).join(","));
    }
    return rows.join("\n");
}

function markdownTable() {
    const cols = int(2, 6);
    const head = Array.from({ length: cols }, () => pick(COMMON));
    const rows = [];
    for (let r = 0, n = int(4, 30); r < n; r++)
        rows.push(head.map(() => (chance(0.6) ? number() : word())));
    const width = head.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
    const line = (cells) => "| " + cells.map((x, c) => x.padEnd(width[c])).join(" | ") + " |";
    return [line(head), "|" + width.map((w) => "-".repeat(w + 2)).join("|") + "|", ...rows.map(line)].join("\n");
}

const tables = () => (chance(0.5) ? csvTable() : markdownTable());

// ---- JSON ---------------------------------------------------------------------------------
function jsonValue(depth) {
    const r = rand();
    if (depth < 3 && r < 0.2) {
        const o = {};
        for (let i = 0, n = int(1, 6); i < n; i++) o[ident(pick(["snake", "camel"]))] = jsonValue(depth + 1);
        return o;
    }
    if (depth < 3 && r < 0.3) return Array.from({ length: int(0, 6) }, () => jsonValue(depth + 1));
    if (r < 0.5) return sentence();
    if (r < 0.6) return pick(WORDS);
    if (r < 0.75) return int(-1000, 100000);
    if (r < 0.85) return Number((rand() * 100).toFixed(6));
    if (r < 0.9) return chance(0.5);
    if (r < 0.93) return null;
    return pick(["café", "naïve", "日本語", "Ελληνικά", "emoji 🎉", "tab\there", "line\nbreak"]);
}

function json() {
    if (chance(0.5)) {
        const msgs = [];
        for (let i = 0, n = int(3, 30); i < n; i++)
            msgs.push(JSON.stringify({ id: int(1, 1e9), role: pick(["user", "assistant", "system"]), content: paragraph(), meta: jsonValue(1) }));
        return msgs.join("\n");
    }
    const o = {};
    for (let i = 0, n = int(3, 15); i < n; i++) o[ident("camel")] = jsonValue(0);
    return JSON.stringify(o, null, chance(0.5) ? 2 : 4);
}

// ---- Chinese and other scripts ------------------------------------------------------------
const HANZI = Array.from("的一是不了人我在有他这为之大来以个中上们到说国和地也子时道出而要于就下得可你年生自会那后能对着事其里所去行过家十用发天如然作方成者多日都三小军二无同么经法当起与好看学进种将还分此心前面又定见只主没公从知民样实现回做机部些使点本动进制情意力全问战期重向特由新通工理论想开决教关及利性直己受代比件线位设资相电外气提变思政先今张提系世更处数量加水化高各果月头实命文总最海明表社",
);
const CH_PUNCT = ["，", "，", "，", "。", "、", "；", "：", "？", "！"];
function chinese() {
    const paras = [];
    for (let p = 0, np = int(1, 8); p < np; p++) {
        let s = "";
        for (let i = 0, n = int(20, 300); i < n; i++) {
            s += pick(HANZI);
            if (chance(0.08)) s += pick(CH_PUNCT);
            if (chance(0.01)) s += "“" + pick(HANZI) + pick(HANZI) + "”";
            if (chance(0.01)) s += number();
            if (chance(0.005)) s += " " + pick(NAMES) + " ";
        }
        paras.push(s + "。");
    }
    return paras.join("\n\n");
}

// Words of other languages, to be assembled into sentences; a few scripts write no spaces.
const SCRIPTS = [
    { words: "и в не на я быть он с что а по это она этот к но они мы как из у который то за свой весь год от так о для ты же все тот мочь вы человек такой его сказать только или ещё бы себя один как уже до время если сам когда другой вот говорить наш мой знать стать при чтобы дело жизнь кто первый очень два день её новый рука даже во со раз где там под можно ну какой после их работа без самый потом надо хотеть ли слово идти большой должен место иметь ничто".split(" "), sep: " " },
    { words: "και το να του η ότι με για από στο ένα αυτό δεν θα είναι τον στην μου της οι τα σε μια πολύ έχει αλλά όταν ήταν ή πιο τι κάτι εγώ αν έτσι ακόμα εδώ λόγος κόσμος".split(" "), sep: " " },
    { words: "في من على أن إلى عن مع هذا كان التي الذي ما لا هو بين كل قد ذلك بعد عند لم أو حتى إذا هذه الله يوم العالم كتاب مدينة".split(" "), sep: " " },
    { words: "है के में की और से को का एक यह पर भी नहीं हैं कि था लिए कर तो ही या जो हो गया कुछ अपने साथ भारत भाषा समय".split(" "), sep: " " },
    { words: "이 그 저 것 수 등 들 및 한국 사람 우리 때 년 일 말 하다 있다 되다 없다 같다 보다 알다 학교 시간 문제 세계".split(" "), sep: " " },
    { words: "der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als auch es an werden aus er hat dass sie nach wird bei einer um am sind noch wie einem über einen so zum war haben nur oder aber vor zur bis mehr durch man sein wurde sei Straße Mädchen Größe schön über".split(" "), sep: " " },
    { words: "le de un être et à il avoir ne je son que se qui ce dans en du elle au pour pas que vous par sur faire plus dire me on mon lui nous comme mais pouvoir avec tout y aller voir en bien où sans tu ou leur homme si deux mari moi vouloir te femme venir quand grand celui si notre devoir là jour prendre même votre tout rien petit encore aussi quelque dont tout mer trouver donner temps ça peu même falloir sous parler alors sentir savoir été déjà garçon français".split(" "), sep: " " },
    { words: "el la de que y a en un ser se no haber por con su para como estar tener le lo todo pero más hacer o poder decir este ir otro ese la si me ya ver porque dar cuando él muy sin vez mucho saber qué sobre mi alguno mismo yo también hasta año dos querer entre así primero desde grande eso ni nos llegar pasar tiempo ella sí día uno bien poco deber entonces poner cosa tanto hombre parecer nuestro tan donde ahora parte después vida quedar siempre creer hablar llevar dejar nada cada seguir menos nuevo encontrar niño corazón mañana".split(" "), sep: " " },
    { words: "は が の を に へ と で も から まで より 私 日本 東京 学校 先生 時間 今日 明日 こんにちは ありがとう コンピュータ データ ソフトウェア 研究 開発 言語 モデル".split(" "), sep: "" },
    { words: "การ ที่ และ ของ ใน เป็น มี ได้ ไม่ ให้ ว่า จะ กับ แล้ว คน นี้ ไป มา อยู่ ประเทศ ไทย ภาษา".split(" "), sep: "" },
    { words: "שלום של את על לא זה הוא היא אני אנחנו מה כל יש עם גם ספר עולם".split(" "), sep: " " },
    { words: "Բարեւ աշխարհ գիրք Ქართული ენა სიტყვა Türkçe çok güzel şehir İstanbul ğ ı Tiếng Việt người được những".split(" "), sep: " " },
];
const EMOJI = ["😀", "🎉", "👍", "🚀", "❤️", "🔥", "✅", "🤖", "👩‍💻", "🇯🇵", "🙏🏽"];

function otherScripts() {
    const sc = pick(SCRIPTS);
    const paras = [];
    for (let p = 0, np = int(1, 6); p < np; p++) {
        const sents = [];
        for (let s = 0, ns = int(1, 8); s < ns; s++) {
            const ws = [];
            for (let i = 0, n = int(3, 25); i < n; i++) ws.push(zipf(sc.words));
            let t = ws.join(sc.sep);
            if (chance(0.1)) t += " " + pick(EMOJI);
            sents.push(t + (sc.sep ? pick([".", ".", "?", "!"]) : "。"));
        }
        paras.push(sents.join(sc.sep || ""));
    }
    // Some text mixes scripts, and some Latin text comes decomposed (NFD combining marks).
    let doc = paras.join("\n\n");
    if (chance(0.3)) doc += "\n\n" + paragraph();
    if (chance(0.2)) doc = doc.normalize("NFD");
    return doc;
}

// ---- logs and whitespace ------------------------------------------------------------------
function logs() {
    const lines = [];
    let t = int(0, 86400 * 365) * 1000 + 1.6e12;
    for (let i = 0, n = int(20, 200); i < n; i++) {
        t += int(1, 5000);
        const lvl = pick(["INFO ", "INFO ", "DEBUG", "WARN ", "ERROR"]);
        const src = ident("snake").slice(0, 18).padEnd(18);
        let msg = `${sentence()} ${ident("snake")}=${literal()}`;
        if (chance(0.1)) msg += "    " + " ".repeat(int(0, 40)) + "\t\t" + number();
        lines.push(`${new Date(t).toISOString()}  ${lvl}  [${src}]  ${msg}${chance(0.1) ? "   " : ""}`);
        if (chance(0.05)) lines.push("\n".repeat(int(1, 5)));
        if (chance(0.03)) lines.push("Traceback (most recent call last):\n" + Array.from({ length: int(2, 6) }, () => `  File "/usr/lib/python3/${ident("snake")}.py", line ${int(1, 2000)}, in ${ident("snake")}\n    ${ident("snake")}(${literal()})`).join("\n"));
    }
    return lines.join("\n");
}

// ---- long no-space runs -----------------------------------------------------------------
const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
function base64Blob(n) {
    let s = "";
    for (let i = 0; i < n; i++) s += B64[rnd32() & 63];
    return s + "==".slice(0, int(0, 2));
}
function blobs() {
    const r = rand();
    if (r < 0.5) {
        // An HTML or Markdown document with an inline image.
        return `<p>${sentence()}</p>\n<img alt="${pick(COMMON)}" src="data:image/png;base64,${base64Blob(int(4096, 65536))}">\n<p>${sentence()}</p>`;
    }
    if (r < 0.75) {
        const lines = [];
        for (let i = 0, n = int(50, 400); i < n; i++) {
            const bytes = Array.from({ length: 16 }, () => (rnd32() & 255).toString(16).padStart(2, "0"));
            lines.push((i * 16).toString(16).padStart(8, "0") + ": " + bytes.join(" "));
        }
        return lines.join("\n");
    }
    // Hashes, keys and URLs: medium-length runs without spaces.
    const lines = [];
    for (let i = 0, n = int(10, 80); i < n; i++) {
        lines.push(pick([
            () => `sha256:${Array.from({ length: 64 }, () => "0123456789abcdef"[rnd32() & 15]).join("")}`,
            () => `https://example.com/${ident("snake")}/${ident("snake")}?token=${base64Blob(int(20, 200))}&page=${int(1, 99)}`,
            () => `-----BEGIN KEY-----\n${base64Blob(int(200, 2000)).replace(/(.{64})/g, "$1\n")}\n-----END KEY-----`,
        ])());
    }
    return lines.join("\n");
}

// ---- mixing ---------------------------------------------------------------------------
const KINDS = [
    [prose, 34], [code, 20], [json, 10], [tables, 9], [chinese, 9],
    [otherScripts, 9], [logs, 6], [blobs, 3],
];
const totalWeight = KINDS.reduce((a, [, w]) => a + w, 0);
function documentText() {
    let r = rand() * totalWeight;
    for (const [f, w] of KINDS) {
        if ((r -= w) < 0) return f();
    }
    return prose();
}

const target = Math.round(megabytes * 1e6);
const docs = [];
let bytes = 0;
while (bytes < target) {
    let d = documentText();
    // Glue a few documents together the way scraped pages mix content.
    if (chance(0.15)) d += "\n\n" + documentText();
    d = d.replace(/\x1e/g, "");
    docs.push(d);
    bytes += Buffer.byteLength(d) + 1;
}
writeFileSync(out, docs.join("\x1e"));
console.error(`gen_corpus: ${docs.length} documents, ${bytes} bytes -> ${out}`);
