// bpe_train.test.mjs: `posttrain tokenizer train` end to end. Trains a byte-level BPE
// vocabulary on a generated ~1 MB corpus (English prose, code, numbers, Chinese), then
// loads the tokenizer.json into @lenml/tokenizers (a port of transformers.js) and checks
// that it is a working tokenizer: the vocabulary has exactly the size asked for, held-out
// texts decode back to themselves, frequent training words became single tokens, and
// posttrain's own loader encodes them to the same ids.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TokenizerLoader } from "@lenml/tokenizers";
import { texts as edgeTexts } from "./corpus.mjs";

const POSTTRAIN = process.env.POSTTRAIN || "/work/main/posttrain";
const VOCAB = 4096;
const SPECIALS = ["<|endoftext|>", "<|pad|>"];

function rng(seed) {  // mulberry32: small, deterministic
  return () => {
    seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Vocabularies with a skewed (Zipf-like) pick, so that some words are very frequent and
// many are rare: a few hundred real English words, a few thousand made-up ones.
const EN = ("the of and to in a is that for it as was with be by on not he this are or his " +
  "from at which but have an they you were her she there been one all we their has would " +
  "when if so no will can more about said what some time people model training data token " +
  "language learning small river mountain village morning evening question answer simple " +
  "because through between another important different following children history").split(" ");
const HAN = "的一是不了人我在有他这中大来上个国到说们为子和你地出道也时年得就那要下以生会" +
  "自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主" +
  "行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美" +
  "点月明其种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门";
const IDENT = ["count", "index", "value", "result", "buffer", "length", "items", "node", "left",
  "right", "total", "name", "size", "data", "error", "config"];

function pick(r, list) { return list[Math.floor(list.length * Math.pow(r(), 2.2))]; }

function madeUp(seed) {  // a pronounceable non-word, the same for the same seed
  const r = rng(seed), c = "bcdfghklmnprstvwz", v = "aeiou";
  let w = "";
  for (let i = 0, n = 2 + Math.floor(r() * 3); i < n; i++)
    w += c[Math.floor(r() * c.length)] + v[Math.floor(r() * v.length)] + (r() < 0.3 ? "n" : "");
  return w;
}
const MADE_UP = Array.from({ length: 4000 }, (_, i) => madeUp(i + 1));
const word = (r) => (r() < 0.6 ? pick(r, EN) : pick(r, MADE_UP));
const han = (r, n) => Array.from({ length: n }, () => pick(r, [...HAN])).join("");

function sentence(r) {
  const n = 5 + Math.floor(r() * 14);
  const w = [];
  for (let i = 0; i < n; i++) w.push(word(r));
  w[0] = w[0][0].toUpperCase() + w[0].slice(1);
  if (r() < 0.2) w.splice(1 + Math.floor(r() * (n - 1)), 0, String(Math.floor(r() * 2000)));
  return w.join(" ") + (r() < 0.85 ? "." : r() < 0.5 ? "?" : "!");
}

function prose(r) {
  const s = [];
  for (let i = 0, n = 3 + Math.floor(r() * 6); i < n; i++) s.push(sentence(r));
  return s.join(" ") + "\n\n";
}

function code(r) {
  const a = pick(r, IDENT) + (r() < 0.5 ? "_" + word(r) : ""), b = pick(r, IDENT), k = Math.floor(r() * 100);
  if (r() < 0.5)
    return `def update_${a}(${b}, limit=${k}):\n    ${a} = 0\n    for i in range(len(${b})):\n` +
      `        if ${b}[i] > limit:\n            ${a} += ${b}[i]\n    return ${a}\n\n`;
  return `function ${a}Of(${b}) {\n  const ${a} = [];\n  for (let i = 0; i < ${b}.length; i++) {\n` +
    `    if (${b}[i] !== null) ${a}.push(${b}[i] * ${k});\n  }\n  return ${a};\n}\n\n`;
}

function numbers(r) {
  let s = "";
  for (let i = 0; i < 4; i++) {
    const y = 1990 + Math.floor(r() * 35), m = 1 + Math.floor(r() * 12), d = 1 + Math.floor(r() * 28);
    s += `${y}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}\t` +
      `${(r() * 1000).toFixed(2)}\t${Math.floor(r() * 1e6)}\n`;
  }
  return s + "\n";
}

function chinese(r) {
  let s = "";
  for (let i = 0, n = 2 + Math.floor(r() * 4); i < n; i++) {
    s += han(r, 4 + Math.floor(r() * 16));
    s += r() < 0.7 ? "，" : "。";
  }
  return s + "。\n\n";
}

function corpus(seed, bytes) {
  const r = rng(seed), parts = [];
  let n = 0;
  while (n < bytes) {
    const x = r();
    const p = x < 0.55 ? prose(r) : x < 0.75 ? code(r) : x < 0.88 ? numbers(r) : chinese(r);
    parts.push(p);
    n += Buffer.byteLength(p);
    if (x < 0.01) parts.push("<|endoftext|>");  // cut out before counting
  }
  return parts.join("");
}

// Held-out: fresh documents from another seed, plus the parity corpus's edge cases.
const heldOut = [];
{
  const r = rng(99);
  for (let i = 0; i < 20; i++) heldOut.push(prose(r), code(r), numbers(r), chinese(r));
  heldOut.push(...edgeTexts);
}

const dir = mkdtempSync(join(tmpdir(), "bpe-train-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
const text = corpus(7, 1 << 20);
// Two files, to exercise more than one input (a piece never spans them).
const cut = text.indexOf("\n\n", text.length >> 1) + 2;
writeFileSync(join(dir, "a.txt"), text.slice(0, cut));
writeFileSync(join(dir, "b.txt"), text.slice(cut));

function train(out, extra = []) {
  const args = ["tokenizer", "train", "--vocab-size", String(VOCAB), "--out", out, ...extra];
  for (const s of SPECIALS) args.push("--special", s);
  args.push(join(dir, "a.txt"), join(dir, "b.txt"));
  const t0 = Date.now();
  const r = spawnSync(POSTTRAIN, args, { encoding: "utf8" });
  assert.equal(r.status, 0, `posttrain ${args.join(" ")} failed:\n${r.stderr}`);
  console.log(`trained in ${Date.now() - t0} ms: ${r.stderr.trim()}`);
  return JSON.parse(readFileSync(out, "utf8"));
}

const outPath = join(dir, "tokenizer.json");
const json = train(outPath);
const tok = TokenizerLoader.fromPreTrained({
  tokenizerJSON: json,
  tokenizerConfig: { clean_up_tokenization_spaces: false },
});
const encode = (s) => tok.encode(s, { add_special_tokens: false });

test("tokenizer.json has the standard shape", () => {
  assert.equal(json.model.type, "BPE");
  assert.equal(json.model.byte_fallback, false);
  assert.equal(json.model.ignore_merges, false);
  assert.equal(json.model.unk_token, null);
  assert.equal(json.normalizer, null);
  assert.deepEqual(json.pre_tokenizer.pretokenizers.map((p) => p.type), ["Split", "ByteLevel"]);
  assert.equal(json.pre_tokenizer.pretokenizers[0].behavior, "Isolated");
  assert.equal(json.decoder.type, "ByteLevel");
  assert.deepEqual(json.added_tokens.map((t) => [t.content, t.id, t.special]),
    SPECIALS.map((s, i) => [s, VOCAB - SPECIALS.length + i, true]));
});

test(`the vocabulary has exactly ${VOCAB} ids, 0..${VOCAB - 1}`, () => {
  const ids = [...Object.values(json.model.vocab), ...json.added_tokens.map((t) => t.id)];
  assert.equal(ids.length, VOCAB);
  assert.deepEqual([...ids].sort((a, b) => a - b), [...Array(VOCAB).keys()]);
  assert.equal(tok.model.vocab.length, VOCAB);
  assert.equal(new Set(json.model.merges).size, json.model.merges.length, "a merge is repeated");
});

test("held-out texts decode back exactly", () => {
  let tokens = 0, bytes = 0;
  for (const s of heldOut) {
    const ids = encode(s);
    assert.ok(ids.every((id) => Number.isInteger(id) && id >= 0 && id < VOCAB));
    assert.equal(ids.length === 0, s === "");
    if (s === "") continue;  // @lenml's decode refuses an empty list
    assert.equal(tok.decode(ids, { skip_special_tokens: false }), s,
      `round trip failed for ${JSON.stringify(s.slice(0, 60))}`);
    tokens += ids.length;
    bytes += Buffer.byteLength(s);
  }
  console.log(`held-out: ${heldOut.length} texts, ${bytes} bytes -> ${tokens} tokens`);
});

test("specials encode to their ids", () => {
  assert.deepEqual(encode("<|endoftext|>"), [VOCAB - 2]);
  assert.deepEqual(encode("a<|pad|>"), [...encode("a"), VOCAB - 1]);
});

test("merges reproduce: frequent training words are single tokens", () => {
  for (const w of [" the", " of", " and", " model", " training", " return", " range", "的",
    "\n\n", "   ", "function"])
    assert.equal(encode(w).length, 1, `${JSON.stringify(w)} -> ${encode(w)}`);
  const first = text.slice(0, text.indexOf("\n"));
  const ids = encode(first);
  assert.ok(ids.length * 3 < Buffer.byteLength(first),
    `weak compression: ${Buffer.byteLength(first)} bytes -> ${ids.length} tokens`);
  // The first merge is the most frequent pair of the corpus: its token is one id.
  const [l, r] = json.model.merges[0].split(" ");
  assert.equal(json.model.vocab[l + r], 256);
});

test("training is deterministic across thread counts", () => {
  const one = join(dir, "one.json");
  train(one, ["--threads", "1"]);
  assert.ok(readFileSync(one).equals(readFileSync(outPath)), "--threads 1 gave another file");
});

test("posttrain tokenize --tokenizer tokenizer.json gives the same ids", (t) => {
  const r = spawnSync(POSTTRAIN, ["tokenize", "--tokenizer", outPath, "--jsonl", "--allow-special"], {
    input: heldOut.map((s) => JSON.stringify(s)).join("\n") + "\n",
    encoding: "utf8",
    maxBuffer: 1 << 28,
  });
  if (r.status !== 0 && /todo|not yet|unsupported/i.test(r.stderr)) {
    t.skip(`posttrain cannot load tokenizer.json yet (${r.stderr.trim()})`);
    return;
  }
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split("\n");
  heldOut.forEach((s, i) => {
    const got = lines[i].trim() ? lines[i].trim().split(" ").map(Number) : [];
    assert.deepEqual(got, encode(s), `text ${i} ${JSON.stringify(s.slice(0, 60))}`);
  });
});
