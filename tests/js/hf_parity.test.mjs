// hf_parity.test.mjs: posttrain's tokenizer.json, encoder.json and llama2.c loaders against
// reference tokenizers, on ~750 texts each (hand-written edge cases, tests/js/corpus.mjs,
// generated word salad, and samples of the test data sets).
//
//   tokenizer.json (llama3, qwen3, llama2, gpt4o, smollm2, minimind), and edited copies
//       of them for components none of them uses (Metaspace, ByteLevel prefix space,
//       lstrip/rstrip, Split on a string, contiguous Digits)
//       vs @lenml/tokenizers (a port of transformers.js), add_special_tokens: false.
//       transformers.js matches every added token in the text, so posttrain runs with
//       --allow-special.
//   gpt4o/tokenizer.json vs tiktoken's o200k_base, gpt2/encoder.json vs tiktoken's gpt2
//       (npm `tiktoken`: OpenAI's Rust core as WASM, Rust regex semantics).
//   llama2c tokenizer.bin / tok512.bin vs a direct transcription of llama2.c run.c's
//       encode() below, and vs the ids llama2.c's own test.c expects.
// Plus decode(encode(x)) == x through `posttrain detokenize`.
//
// Known differences of the transformers.js reference (JavaScript regex semantics), where
// posttrain follows the Rust `tokenizers` library that wrote these files:
//   - \s: JavaScript's includes U+FEFF and excludes U+0085; Rust's and Oniguruma's are
//     Unicode White_Space (the reverse). Texts with either character are checked against
//     tiktoken (gpt4o, gpt2) only.
//   - (?i:'s|...): transformers.js rewrites it to ASCII [sS] etc., while Rust's case-
//     insensitive match also takes U+017F ſ ('ſ is a contraction there). Same handling.
//   - Digits: transformers.js splits on \d (ASCII 0-9 in JavaScript), Rust on
//     char::is_numeric (\p{N}: ٣, ½, ², …). The reference is patched to \p{N} below.
// The vocabulary of ../shared/data/tokenizers/llama2 is not Llama 2's (▁Hello is 22557
// there, 15043 in llama2.c's tokenizer.bin: it is Mistral's), so llama2.c's files are
// checked against run.c's algorithm rather than against that tokenizer.json.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { TokenizerLoader } from "@lenml/tokenizers";
import { get_encoding } from "tiktoken";
import { texts as sharedCorpus } from "./corpus.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const DATA = resolve(ROOT, process.env.SHARED_DATA || "../shared/data");
const POSTTRAIN = process.env.POSTTRAIN || join(ROOT, "posttrain");
const TOK = join(DATA, "tokenizers");
const MISSING = existsSync(TOK) ? null : `no test data at ${DATA} (set SHARED_DATA)`;
if (MISSING) console.log(`skip: ${MISSING}`);

// ---- the corpus -----------------------------------------------------------------------------

function rng(seed) {  // mulberry32
  return () => {
    seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HAND = [
  "", " ", "  ", "\n", "\t", "\r\n", "a", "A", "0", ".",
  "It was late in the afternoon when the train finally left the station.",
  "She said, \"Nothing ever happens here,\" and then — of course — something did.",
  " one leading space", "   three leading spaces", "one trailing space ", "trailing spaces    ",
  "words   separated    by     runs      of       spaces",
  "tab\tseparated\t\tvalues\t\t\t", "\t\t\tindented by tabs", "mixed \t \t indentation",
  "first line\nsecond line\n\nfourth line\n", "\n\n\n\n", "text\n   \n   \nmore", "end with newline\n",
  "crlf\r\nlines\r\n\r\nhere\r\n", "lone\rcarriage\rreturns", "  \n \t\n\t \n  ",
  "I've, you'd, she'll, we're, it's, they've, I'm, can't, won't, shouldn't've",
  "SHOUT: I'VE YOU'D SHE'LL WE'RE IT'S THEY'VE I'M", "Mixed: I'Ve You'D We'Re",
  "'s 't 're 've 'm 'll 'd 'x ' s", "the dog's bone, the dogs' bones, James's car",
  "fn longest<'a>(x: &'a str) -> &'a str { x }",
  "7 42 512 2048 65536 1000000 31415926535 00012 -17 +3",
  "3.14 0.5 .5 5. 1e9 6.02e23 1,234,567 12:45:07 2025-01-31 v1.2.3-rc4",
  "Order #A-1029 costs $45.99 (USD) or €42,50; call +1 (555) 010-9999 ext. 12",
  "Arabic-Indic ٠١٢٣٤٥٦٧٨٩, Devanagari १२३, circled ①②③, fractions ½⅓, powers x²y³, roman Ⅻ",
  "numbers next to letters: abc123def 4you x86_64 utf8 h264 3D",
  "def area(r):\n    \"\"\"Circle area.\"\"\"\n    return 3.14159 * r ** 2\n\nprint(f\"{area(2):.2f}\")\n",
  "#include <stdlib.h>\nint *p = malloc(n * sizeof *p);\nif (!p) { return -1; }\nfor (int i = 0; i < n; i++) p[i] = i << 2;\n",
  "const xs = [1, 2, 3].map((x) => x * 2).filter(Boolean); // => [2, 4, 6]",
  "SELECT id, name FROM users WHERE age >= 18 ORDER BY name DESC LIMIT 10;",
  "$ grep -rn 'TODO' src/ | sort | uniq -c > todo.txt && echo done",
  "<div class=\"note\"><p>Hello &amp; welcome</p><br/></div>",
  "| col a | col b |\n|-------|-------|\n| 1     | 2     |",
  "$$\\int_0^1 x^2\\,dx = \\frac{1}{3}$$ and $e^{i\\pi}+1=0$",
  "see https://example.org/a/b?c=d&e=f#g or mail someone@example.com; path C:\\Users\\me\\file.txt",
  "机器学习是人工智能的一个分支，它让计算机从数据中学习。我们明天早上九点见面吧！",
  "吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。カタカナ、ひらがな、漢字。",
  "대한민국의 수도는 서울입니다. 오늘 날씨가 정말 좋네요!",
  "اللغة العربية جميلة جداً، وهي تُكتب من اليمين إلى اليسار.",
  "हिन्दी भाषा में यह एक वाक्य है। क्या आप समझते हैं?",
  "Съешь же ещё этих мягких французских булок, да выпей чаю.",
  "Ξεσκεπάζω την ψυχοφθόρα βδελυγμία. שלום עולם. ภาษาไทยง่ายนิดเดียว",
  "Tiếng Việt có dấu: Chào buổi sáng. Türkçe: İstanbul ılık. Deutsch: Straße, Größe.",
  "family 👨‍👩‍👧‍👦, couple 👩‍❤️‍👨, coder 🧑🏽‍💻, rainbow 🏳️‍🌈, pirate 🏴‍☠️",
  "flags 🇫🇷🇩🇪🇯🇵🇧🇷 and subdivision 🏴󠁧󠁢󠁳󠁣󠁴󠁿, keycaps 1️⃣#️⃣, skin 👋🏻👋🏿",
  "decomposed: e\u0301 o\u0308 a\u030a n\u0303 c\u0327 and precomposed: é ö å ñ ç",
  "Hangul jamo \u1100\u1161\u11a8 vs 각; Vietnamese a\u0323\u0302 vs ậ",
  "Z\u0334\u0321\u031ba\u0338l\u0337g\u0336o\u0335 text with s\u0336t\u0336a\u0336c\u0336k\u0336e\u0336d marks",
  "math 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝟙𝟚𝟛 and rare CJK 𠜎𠜱𠝹 and private use \ue000\uf8ff",
  "controls \u0001\u0002\u0007 and escape \u001b[31mred\u001b[0m",
  "nbsp\u00a0here, thin\u2009space, ideographic\u3000space, zero\u200bwidth, joiner\u200dx",
  "line\u2028separator and paragraph\u2029separator",
  "<|endoftext|>", "before<|endoftext|>after", "<|endoftext|><|endoftext|> <|endoftext|>",
  "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n<|im_start|>assistant\n",
  "<s>[INST] What is BPE? [/INST] Byte-pair encoding.</s>", "unknown <unk> token and </s> end",
  "<think>\nLet me think.\n</think>\n\nThe answer is 4.", "<tool_call>\n{\"name\": \"add\"}\n</tool_call>",
  "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhello<|eot_id|>",
  "almost specials: <|endoftext <|im_end| |endoftext|> <<|im_end|>> <|IM_END|>",
  "spaces around specials: a \u00a0\u3000</s>\u2003\t b <s>\u00a0 c \n<|im_end|>\u2009\n d",
  "a".repeat(3000), "ab".repeat(1500), " ".repeat(2500), "\n".repeat(1200), "\t".repeat(900),
  "0".repeat(2500), "9876543210".repeat(300), "=".repeat(4000), "-=".repeat(1500),
  "é".repeat(1500), "中文".repeat(1000), "😀".repeat(700), "👍🏽".repeat(300),
  ("Lorem ipsum dolor sit amet, consectetur adipiscing elit. ").repeat(60),
];

// A base64-like blob and word salad: deterministic and varied.
function generated() {
  const r = rng(20240531), out = [];
  const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  out.push(Array.from({ length: 5000 }, () => b64[Math.floor(r() * 64)]).join(""));
  const words = ["the", "cat", "Model", "GPU", "isn't", "we'll", "3.5", "1024", "  ", "\n", "\t",
    "数据", "東京", "🙂", "naïve", "café", "x+y", "(a)", "[b]", "...", "—", "'", "\"", "_", "ID42"];
  for (let d = 0; d < 40; d++) {
    let s = "";
    for (let i = 0, n = 10 + Math.floor(r() * 150); i < n; i++)
      s += words[Math.floor(r() * words.length)] + (r() < 0.7 ? " " : "");
    out.push(s);
  }
  return out;
}

// Real text from the test data sets: instructions, Chinese dialogue, multilingual forums.
function fromDatasets() {
  const out = [];
  const ds = join(DATA, "datasets");
  const read = (p) => (existsSync(join(ds, p)) ? readFileSync(join(ds, p), "utf8") : null);
  const alpaca = read("llama_factory/alpaca_en_demo.json");
  if (alpaca) for (const r of JSON.parse(alpaca).slice(0, 80)) out.push(r.instruction, r.input, r.output);
  const zh = read("sharegpt/sharegpt_zh_1K_format.jsonl");
  if (zh) for (const l of zh.split("\n").slice(0, 40).filter(Boolean))
    for (const c of JSON.parse(l).conversations.slice(0, 4)) out.push(c.value);
  const oasst = read("oasst/oasst2_filtered.trees.jsonl");
  const walk = (m) => { out.push(m.text); for (const c of m.replies || []) walk(c); };
  if (oasst) for (const l of oasst.split("\n").slice(0, 25).filter(Boolean)) walk(JSON.parse(l).prompt);
  const mt = read("mt_bench/mt_bench_question.jsonl");
  if (mt) for (const l of mt.split("\n").filter(Boolean)) out.push(...JSON.parse(l).turns);
  return out.filter((s) => typeof s === "string");
}

// Texts on which transformers.js's JavaScript regexes differ from Rust's (see the top).
const jsRegexQuirk = (s) => /[\ufeff\u0085]|'\u017f/u.test(s);
const QUIRKS = ["bom\ufeffinside", "\ufeff\ufeffx", "x\ufeff!!", "next\u0085line", "a\u0085!!",
  "a \u0085 b", "it'ſelf, don'ſ", "\ufeff\u0085\ufeff"];

const ALL = [...new Set([...HAND, ...sharedCorpus, ...generated(), ...(MISSING ? [] : fromDatasets())])];
const CORPUS = ALL.filter((s) => !jsRegexQuirk(s));

// ---- running posttrain ----------------------------------------------------------------------

function posttrain(args, input) {
  const r = spawnSync(POSTTRAIN, args, { input, maxBuffer: 1 << 30 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`posttrain ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}

// One run for all texts: --jsonl reads one JSON string per line, prints one line of ids.
function encodeAll(file, texts, allowSpecial = true) {
  const args = ["tokenize", "--tokenizer", file, "--jsonl"];
  if (allowSpecial) args.push("--allow-special");
  const lines = posttrain(args, texts.map((t) => JSON.stringify(t)).join("\n") + "\n")
    .toString().split("\n");
  return texts.map((_, i) => (lines[i] ? lines[i].split(" ").map(Number) : []));
}

// Plain detokenize writes the exact bytes; --jsonl decodes many id lists in one run.
function decode(file, ids) {
  return posttrain(["detokenize", "--tokenizer", file], ids.join(" ")).toString("utf8");
}

function decodeAll(file, idLists) {
  const out = posttrain(["detokenize", "--tokenizer", file, "--jsonl"],
    idLists.map((ids) => JSON.stringify(ids)).join("\n") + "\n").toString("utf8").split("\n");
  return idLists.map((_, i) => JSON.parse(out[i]));
}

// decode(encode(x)) == want(x) for the ROUND_TRIP texts.
function roundTrip(file, want = (s) => s) {
  const ids = encodeAll(file, ROUND_TRIP, false);
  assert.equal(decode(file, ids[0]), want(ROUND_TRIP[0]), "plain detokenize");
  decodeAll(file, ids).forEach((got, i) =>
    assert.equal(got, want(ROUND_TRIP[i]), `round trip of ${JSON.stringify(ROUND_TRIP[i]).slice(0, 80)}`));
}

// Compares id lists; on a mismatch, shows the first differing text and both lists around
// the first differing position.
function compare(t, label, texts, got, want) {
  let bad = 0, first = -1;
  for (let i = 0; i < texts.length; i++)
    if (JSON.stringify(got[i]) !== JSON.stringify(want[i]) && bad++ === 0) first = i;
  t.diagnostic(`${label}: ${texts.length} texts, ${bad} mismatches`);
  if (!bad) return;
  const g = got[first], w = want[first];
  let k = 0;
  while (k < g.length && k < w.length && g[k] === w[k]) k++;
  const around = (a) => `[${k > 8 ? "... " : ""}${a.slice(Math.max(0, k - 8), k + 24).join(" ")}]`;
  assert.fail(`${label}: ${bad} of ${texts.length} texts differ; first: text ${first} ` +
    `${JSON.stringify(texts[first]).slice(0, 300)}\n  first difference at id ${k}\n` +
    `  posttrain (${g.length}): ${around(g)}\n  reference (${w.length}): ${around(w)}`);
}

// ---- Hugging Face tokenizer.json vs transformers.js -----------------------------------------

// transformers.js's Digits pre-tokenizer splits on JavaScript's \d (ASCII only); the Rust
// library that defines the format splits on char::is_numeric. Give it Rust's meaning.
function patchDigits(pre) {
  if (!pre) return;
  for (const p of pre.tokenizers || []) patchDigits(p);
  if (pre.config?.type === "Digits")
    pre.pattern = new RegExp(`[^\\p{N}]+|\\p{N}${pre.config.individual_digits ? "" : "+"}`, "gu");
}

function readTokenizer(dir) {
  const json = JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8"));
  const cfgPath = join(dir, "tokenizer_config.json");
  const cfg = existsSync(cfgPath) ? JSON.parse(readFileSync(cfgPath, "utf8")) : null;
  return { json, cfg };
}

function reference({ json, cfg }) {
  // fromPreTrained keeps references into json: give it a copy.
  const tok = TokenizerLoader.fromPreTrained({ tokenizerJSON: structuredClone(json),
    tokenizerConfig: cfg ?? {} });
  patchDigits(tok.pre_tokenizer);
  return tok;
}

// Texts that survive a round trip as they are (no special tokens: SentencePiece's prefix
// space goes in front of each segment, so "a</s>b" comes back as "a</s> b").
const ROUND_TRIP = ["Hello world", " leading and trailing ", "tabs\tand\nnewlines\r\n",
  "def f(x):\n    return x\n", "机器学习 日本語 한국어 العربية हिन्दी", "👨‍👩‍👧‍👦 🇯🇵 👍🏽 1️⃣",
  "e\u0301 vs é, Z\u0334a\u0338", "   ", "a".repeat(2000), "\u0001\u001b[0m"];

// Where a tokenizer's files are: ../shared/data, or else the npm package that ships the
// same files (@lenml/tokenizer-NAME, a devDependency), so a fresh clone still checks them.
function tokenizerDir(name) {
  const shared = join(TOK, name), npm = join(ROOT, "node_modules/@lenml", `tokenizer-${name}`, "models");
  if (existsSync(join(shared, "tokenizer.json"))) return [shared, null];
  if (existsSync(join(npm, "tokenizer.json"))) return [npm, null];
  return [shared, `no ${name} tokenizer.json in ${TOK} or in node_modules/@lenml/tokenizer-${name}`];
}

const HF = ["llama3", "qwen3", "llama2", "gpt4o", "smollm2", "minimind"];
for (const name of HF) {
  const [dir, missing] = tokenizerDir(name), file = join(dir, "tokenizer.json");
  if (missing) console.log(`skip: ${missing}`);
  test(`tokenizer.json parity: ${name}`, { skip: missing ?? false }, (t) => {
    const ref = reference(readTokenizer(dir));
    const want = CORPUS.map((s) => ref.encode(s, { add_special_tokens: false }));
    compare(t, name, CORPUS, encodeAll(file, CORPUS), want);
  });
  test(`tokenizer.json round trip: ${name}`, { skip: missing ?? false }, () => {
    roundTrip(file, name === "qwen3" ? (s) => s.normalize("NFC") : undefined);  // Qwen: NFC
  });
}

// Added tokens: the non-special ones (Qwen's <tool_call>) match even where specials are
// not allowed; special ones then are text. BOS as transformers.js's template adds it.
test("tokenizer.json: added tokens without --allow-special, BOS", { skip: MISSING ?? false }, () => {
  const qwen = join(TOK, "qwen3/tokenizer.json");
  const [call, end] = encodeAll(qwen, ["<tool_call>", "<|im_end|>"], false);
  assert.deepEqual(call, [151657]);
  assert.ok(end.length > 1 && !end.includes(151645), `<|im_end|> as text: ${end}`);
  const dir = join(TOK, "llama2"), ref = reference(readTokenizer(dir));
  const texts = HAND.filter((s) => s && !s.includes("<"));
  const got = posttrain(["tokenize", "--tokenizer", join(dir, "tokenizer.json"), "--jsonl", "--bos"],
    texts.map((x) => JSON.stringify(x)).join("\n") + "\n").toString().split("\n");
  texts.forEach((x, i) => assert.equal(got[i], ref.encode(x).join(" "), JSON.stringify(x)));
});

// ---- variants of the real files, for components none of them uses -------------------------
// Each edits a real tokenizer.json, writes it to a temporary directory and compares with
// transformers.js on the same edited file.

const VARIANTS = [
  ["minimind + ByteLevel(add_prefix_space)", "minimind", (j) => { j.pre_tokenizer.add_prefix_space = true; }],
  ["smollm2 + Digits(individual_digits: false)", "smollm2", (j) => { j.pre_tokenizer.pretokenizers[0].individual_digits = false; }],
  ...["always", "first"].map((scheme) => [`llama2 + Metaspace(${scheme})`, "llama2", (j) => {
    // transformers.js never splits at ▁ and prepends only with add_prefix_space: give it both.
    j.normalizer = null;
    j.pre_tokenizer = { type: "Metaspace", replacement: "\u2581", add_prefix_space: true,
      prepend_scheme: scheme, split: false };
    j.decoder = { type: "Metaspace", replacement: "\u2581", add_prefix_space: true,
      prepend_scheme: scheme, split: false };
  }]),
  ["llama2 + lstrip/rstrip added tokens", "llama2", (j) => {
    for (const a of j.added_tokens) { a.lstrip = a.content === "</s>"; a.rstrip = a.content === "<s>"; }
  }],
  ["gpt4o + Split(String) + Isolated", "gpt4o", (j) => {
    j.pre_tokenizer.pretokenizers.unshift({ type: "Split", pattern: { String: "." },
      behavior: "Isolated", invert: false });
  }],
];

for (const [label, base, edit] of VARIANTS) {
  test(`variant: ${label}`, { skip: MISSING ?? false }, (t) => {
    const tk = readTokenizer(join(TOK, base));
    edit(tk.json);
    const dir = mkdtempSync(join(tmpdir(), "hf_parity-"));
    try {
      writeFileSync(join(dir, "tokenizer.json"), JSON.stringify(tk.json));
      if (tk.cfg) writeFileSync(join(dir, "tokenizer_config.json"), JSON.stringify(tk.cfg));
      const ref = reference(tk);
      const want = CORPUS.map((s) => ref.encode(s, { add_special_tokens: false }));
      compare(t, label, CORPUS, encodeAll(join(dir, "tokenizer.json"), CORPUS), want);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

// ---- tiktoken: gpt4o's tokenizer.json is o200k_base; encoder.json is gpt2 ------------------

for (const [label, file, encoding] of [
  ["gpt4o tokenizer.json vs tiktoken o200k_base", join(TOK, "gpt4o/tokenizer.json"), "o200k_base"],
  ["gpt2 encoder.json vs tiktoken gpt2", join(TOK, "gpt2/encoder.json"), "gpt2"],
]) {
  test(label, { skip: MISSING ?? false }, (t) => {
    const enc = get_encoding(encoding);
    const texts = [...ALL, ...QUIRKS];  // Rust regexes: the quirk texts count here
    const want = texts.map((s) => Array.from(enc.encode(s, "all")));
    enc.free();
    compare(t, label, texts, encodeAll(file, texts), want);
  });
}

test("gpt2 encoder.json round trip and EOS", { skip: MISSING ?? false }, () => {
  const file = join(TOK, "gpt2/encoder.json");
  roundTrip(file);
  assert.deepEqual(posttrain(["tokenize", "--tokenizer", file, "--eos"], "Hi").toString().trim(),
    "17250 50256");
});

// ---- llama2.c ---------------------------------------------------------------------------------

// Reads a llama2.c tokenizer file: [max_token_length] then (score, len, bytes) per token.
function readLlama2c(path) {
  const b = readFileSync(path);
  const vocab = [], scores = [];
  for (let p = 4; p < b.length;) {
    scores.push(b.readFloatLE(p));
    const n = b.readInt32LE(p + 4);
    vocab.push(b.subarray(p + 8, p + 8 + n).toString("latin1"));  // bytes as 1:1 chars
    p += 8 + n;
  }
  const ids = new Map();
  vocab.forEach((s, i) => { if (!ids.has(s)) ids.set(s, i); });
  return { vocab, scores, ids };
}

// llama2.c run.c's encode(), transcribed: dummy " " token first, then one token per UTF-8
// character (or its bytes + 3), then repeatedly merge the leftmost pair whose
// concatenation is the token with the strictly highest score.
function runcEncode(tk, text) {
  const out = [];
  if (text.length) out.push(tk.ids.get(" "));
  for (const ch of text) {
    const bytes = Buffer.from(ch, "utf8").toString("latin1");
    const id = tk.ids.get(bytes);
    if (id !== undefined) out.push(id);
    else for (let k = 0; k < bytes.length; k++) out.push(bytes.charCodeAt(k) + 3);
  }
  for (;;) {
    let best = -1e10, bestId = -1, at = -1;
    for (let i = 0; i + 1 < out.length; i++) {
      const id = tk.ids.get(tk.vocab[out[i]] + tk.vocab[out[i + 1]]);
      if (id !== undefined && Math.fround(tk.scores[id]) > Math.fround(best)) {
        best = tk.scores[id]; bestId = id; at = i;
      }
    }
    if (at < 0) return out;
    out.splice(at, 2, bestId);
  }
}

// llama2.c's test.c: prompts and the ids Meta's Llama 2 tokenizer gives them (BOS first).
const RUNC_CASES = [
  ["", [1]],
  ["I believe the meaning of life is", [1, 306, 4658, 278, 6593, 310, 2834, 338]],
  ["Simply put, the theory of relativity states that ",
    [1, 3439, 17632, 1925, 29892, 278, 6368, 310, 14215, 537, 5922, 393, 29871]],
  ["A brief message congratulating the team on the launch:\n\n        Hi everyone,\n\n        I just ",
    [1, 319, 11473, 2643, 378, 629, 271, 18099, 278, 3815, 373, 278, 6826, 29901, 13, 13, 4706,
      6324, 14332, 29892, 13, 13, 4706, 306, 925, 29871]],
  ["Translate English to French:\n\n        sea otter => loutre de mer\n        peppermint => menthe poivrée\n        plush girafe => girafe peluche\n        cheese =>",
    [1, 4103, 9632, 4223, 304, 5176, 29901, 13, 13, 4706, 7205, 4932, 357, 1149, 301, 449, 276, 316,
      2778, 13, 4706, 1236, 407, 837, 524, 1149, 6042, 354, 772, 440, 29878, 1318, 13, 4706, 715,
      1878, 330, 3055, 1725, 1149, 330, 3055, 1725, 4639, 28754, 13, 4706, 923, 968, 1149]],
];

for (const name of ["tokenizer.bin", "tok512.bin"]) {
  const file = join(DATA, "llama2c", name);
  test(`llama2.c ${name} vs run.c's encode`, { skip: MISSING ?? false }, (t) => {
    const tk = readLlama2c(file);
    // run.c's merge loop is quadratic; very long texts only slow the reference down.
    const texts = ALL.filter((s) => s.length <= 2500);
    compare(t, `llama2c ${name}`, texts, encodeAll(file, texts, false), texts.map((s) => runcEncode(tk, s)));
    roundTrip(file);  // decoding drops the dummy prefix space again
  });
}

test("llama2.c tokenizer.bin: llama2.c test.c ids", { skip: MISSING ?? false }, (t) => {
  const file = join(DATA, "llama2c", "tokenizer.bin");
  const got = encodeAll(file, RUNC_CASES.map((c) => c[0]), false);
  RUNC_CASES.forEach(([s, want], i) => assert.deepEqual([1, ...got[i]], want, JSON.stringify(s)));
  t.diagnostic(`${RUNC_CASES.length} test.c prompts match`);
});
