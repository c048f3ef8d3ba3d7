// tiktoken_parity.test.mjs: posttrain's tokenizer against OpenAI's tiktoken (Rust core as
// WASM, npm `tiktoken`) and js-tiktoken (pure JS) on gpt2, cl100k_base and o200k_base.
//
// The rank files come from npm tiktoken's own encoders/ folder, so the test needs
// nothing from outside the repository; when ../shared/data has the .tiktoken files, the
// same check runs on them too. Every mismatch fails with the text and both id lists.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { get_encoding } from "tiktoken";
import { getEncoding } from "js-tiktoken";
import { texts } from "./corpus.mjs";

const POSTTRAIN = process.env.POSTTRAIN || "./posttrain";
const SHARED = process.env.SHARED_DATA || "../shared/data";
const NPM_DIR = "node_modules/tiktoken/encoders";
const SHARED_DIR = `${SHARED}/tokenizers/tiktoken`;

// Encodes all texts in one posttrain run (--jsonl: one JSON string per line).
function posttrainEncode(name, dir, allowSpecial) {
  const args = ["tokenize", "--tokenizer", name, "--vocab-dir", dir, "--jsonl"];
  if (allowSpecial) args.push("--allow-special");
  const out = execFileSync(POSTTRAIN, args, {
    input: texts.map((t) => JSON.stringify(t)).join("\n") + "\n",
    maxBuffer: 1 << 28,
  }).toString();
  const lines = out.split("\n");
  return texts.map((_, i) => (lines[i].trim() ? lines[i].trim().split(" ").map(Number) : []));
}

function compare(label, got, want, only = () => true) {
  let bad = 0, n = 0;
  for (let i = 0; i < texts.length; i++) {
    if (!only(texts[i])) continue;
    n++;
    const w = Array.from(want[i]);
    if (JSON.stringify(got[i]) !== JSON.stringify(w)) {
      if (bad++ === 0)
        assert.fail(`${label}: text ${i} ${JSON.stringify(texts[i].slice(0, 80))}\n` +
          `  posttrain: ${got[i].slice(0, 40).join(" ")}\n  reference: ${w.slice(0, 40).join(" ")}`);
    }
  }
  console.log(`${label}: ${n} texts, ${bad} mismatches`);
}

const dirs = [["npm", NPM_DIR]];
if (existsSync(`${SHARED_DIR}/o200k_base.tiktoken`)) dirs.push(["shared", SHARED_DIR]);
else console.log(`note: ${SHARED_DIR} missing; checking the npm-shipped ranks only`);

for (const name of ["gpt2", "cl100k_base", "o200k_base"]) {
  for (const [where, dir] of dirs) {
    test(`${name} (${where} ranks) = tiktoken, ordinary text`, () => {
      const enc = get_encoding(name);
      compare(`${name}/${where}/tiktoken`, posttrainEncode(name, dir, false),
        texts.map((t) => enc.encode_ordinary(t)));
      enc.free();
    });
    test(`${name} (${where} ranks) = tiktoken, specials allowed`, () => {
      const enc = get_encoding(name);
      compare(`${name}/${where}/tiktoken+special`, posttrainEncode(name, dir, true),
        texts.map((t) => enc.encode(t, "all")));
      enc.free();
    });
  }
  // js-tiktoken is quadratic on long runs (seconds for 3 KB of one letter): it checks
  // the shorter texts; the WASM tiktoken above covers the long ones.
  test(`${name} = js-tiktoken`, () => {
    const enc = getEncoding(name);
    const short = (t) => t.length < 1000;
    compare(`${name}/js-tiktoken`, posttrainEncode(name, NPM_DIR, false),
      texts.map((t) => (short(t) ? enc.encode(t, [], []) : [])), short);
  });
}

test("decode(encode(x)) == x for every corpus text (o200k_base)", () => {
  const ids = posttrainEncode("o200k_base", NPM_DIR, false);
  const out = execFileSync(POSTTRAIN, ["detokenize", "--tokenizer", "o200k_base", "--vocab-dir", NPM_DIR, "--jsonl"],
    { input: ids.map((x) => JSON.stringify(x)).join("\n") + "\n", maxBuffer: 1 << 28 }).toString();
  const back = out.split("\n");
  for (let i = 0; i < texts.length; i++) assert.equal(JSON.parse(back[i]), texts[i], `round trip of text ${i}`);
});
