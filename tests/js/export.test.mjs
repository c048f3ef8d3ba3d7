// export.test.mjs: a model directory's tokenizer, as `posttrain tokenizer export` writes it
// (src/chat/export.c), loaded by Hugging Face's transformers.js (npm @lenml/tokenizers).
//
// For each source tokenizer and chat template:
//   - transformers.js loads the directory's tokenizer.json + tokenizer_config.json, and its
//     apply_chat_template (the config's own Jinja chat_template, tokenize: true, with and
//     without add_generation_prompt) gives the ids of `posttrain render`, both with the
//     source tokenizer and with the exported directory as --tokenizer;
//   - the export of tiktoken ranks (o200k_base, cl100k_base) encodes the corpus to the ids
//     of npm tiktoken, in transformers.js and in posttrain (--tokenizer DIR);
//   - the export of a llama2.c tokenizer.bin encodes the corpus in transformers.js to the
//     ids posttrain gives the .bin (needs ../shared/data; skipped without it).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { TokenizerLoader } from "@lenml/tokenizers";
import { get_encoding } from "tiktoken";
import { texts } from "./corpus.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const POSTTRAIN = process.env.POSTTRAIN || join(ROOT, "posttrain");
const DATA = resolve(ROOT, process.env.SHARED_DATA || "../shared/data");
const NPM = join(ROOT, "node_modules/@lenml");
const ENCODERS = join(ROOT, "node_modules/tiktoken/encoders");
const TMP = mkdtempSync(join(tmpdir(), "pt-export-"));
process.on("exit", () => rmSync(TMP, { recursive: true, force: true }));

const CONVERSATIONS = [
  [{ role: "user", content: "What is 2+2?" }, { role: "assistant", content: "2+2 = 4" }],
  [{ role: "user", content: "What is 2+2?" }],
  [{ role: "system", content: "You are a helpful, truthful and harmless assistant." },
   { role: "user", content: "Write a haiku about tokens.\nMake it short." },
   { role: "assistant", content: "Bytes become pieces,\npieces merge into meaning —\nids all the way down." },
   { role: "user", content: "你好！用中文再写一首。" }],
  [{ role: "user", content: "Tell me a story" }, { role: "assistant", content: "Once upon a time…" },
   { role: "user", content: "def f(x):\n    return x * 2\n\nWhat does this do?" }],
  // White space at the edges of content: llama3 trims it, a token can straddle header and reply.
  [{ role: "user", content: "\nstarts with a newline" }, { role: "assistant", content: "\n\n  indented reply\n" },
   { role: "user", content: " leading space and trailing  " }],
  [{ role: "system", content: "Réponds en français." }, { role: "user", content: "Combien font 7×6 ? 🤔" },
   { role: "assistant", content: "42 — la réponse à tout." }, { role: "user", content: "" }],
  [{ role: "user", content: "Emoji 👩‍💻 and tabs\tand  double  spaces, it's fine: I'll check 1234567." },
   { role: "assistant", content: "Done.\n\n```c\nint main(void) { return 0; }\n```" }],
];

function run(args, input) {
  const r = spawnSync(POSTTRAIN, args, { input, maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, `posttrain ${args.join(" ")} failed: ${r.stderr}`);
  return r;
}

// posttrain tokenizer export … --out DIR; returns DIR.
function exportDir(name, spec, template) {
  const dir = join(TMP, `${name}-${template}`);
  const r = run(["tokenizer", "export", ...spec, "--template", template, "--out", dir]);
  assert.match(r.stderr.toString(), new RegExp(`template ${template},`), "the template reads back");
  return dir;
}

function hfLoad(dir) {
  return TokenizerLoader.fromPreTrained({
    tokenizerJSON: JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8")),
    tokenizerConfig: JSON.parse(readFileSync(join(dir, "tokenizer_config.json"), "utf8")),
  });
}

function render(spec, template, gen) {
  const path = join(TMP, "conversations.jsonl");
  writeFileSync(path, CONVERSATIONS.map((m) => JSON.stringify({ messages: m })).join("\n") + "\n");
  const args = ["render", ...spec, "--template", template, "--json", path];
  if (gen) args.push("--add-generation-prompt");
  return run(args).stdout.toString().trim().split("\n").map((l) => JSON.parse(l).ids);
}

// posttrain tokenize --jsonl: ids of every text, one run.
function encode(spec, list) {
  const out = run(["tokenize", ...spec, "--jsonl"], list.map((t) => JSON.stringify(t)).join("\n") + "\n")
    .stdout.toString().split("\n");
  return list.map((_, i) => (out[i].trim() ? out[i].trim().split(" ").map(Number) : []));
}

function same(label, got, want) {
  let bad = 0;
  for (let i = 0; i < want.length; i++) {
    if (JSON.stringify(got[i]) === JSON.stringify(want[i])) continue;
    if (bad++ === 0)
      assert.fail(`${label}: item ${i}\n  got:  ${got[i].slice(0, 40).join(" ")}\n  want: ${want[i].slice(0, 40).join(" ")}`);
  }
  return want.length;
}

// Texts where transformers.js's JavaScript regexes differ from the Rust/tiktoken ones
// (\s and U+FEFF/U+0085, case-insensitive 'ſ; see hf_parity.test.mjs), and spellings of
// special tokens (HF matches every added token in text, tiktoken's encode_ordinary none).
const jsComparable = (t) => !/[\uFEFF\u0085\u017F]/.test(t) && !/<\||<\/?s>|<unk>/.test(t);

// Checks the chat template of an exported directory against posttrain render.
function checkTemplate(label, spec, template) {
  const dir = exportDir(label, spec, template);
  const hf = hfLoad(dir);
  let n = 0;
  for (const gen of [false, true]) {
    const fromSource = render(spec, template, gen);
    const fromDir = render(["--tokenizer", dir], template, gen);
    const want = CONVERSATIONS.map((c) => Array.from(hf.apply_chat_template(c,
      { tokenize: true, return_tensor: false, add_generation_prompt: gen })));
    n += same(`${label}/${template}: render (source) vs apply_chat_template, gen=${gen}`, fromSource, want);
    same(`${label}/${template}: render (exported dir) vs apply_chat_template, gen=${gen}`, fromDir, want);
  }
  console.log(`${label}/${template}: ${n} renders identical (source, exported dir, transformers.js)`);
  return { dir, hf };
}

// ---- tiktoken ranks -----------------------------------------------------------------------

for (const [name, template] of [["o200k_base", "gpt4o"], ["cl100k_base", "chatml"], ["o200k_base", "llama3"]]) {
  test(`${name} export (${template}): transformers.js = posttrain = tiktoken`, () => {
    const spec = ["--tokenizer", name, "--vocab-dir", ENCODERS];
    const { dir, hf } = checkTemplate(name, spec, template);
    const enc = get_encoding(name);
    const want = texts.map((t) => Array.from(enc.encode_ordinary(t)));
    enc.free();
    same(`${name}: posttrain --tokenizer DIR vs tiktoken`, encode(["--tokenizer", dir], texts), want);
    const js = texts.filter(jsComparable);
    const jsWant = want.filter((_, i) => jsComparable(texts[i]));
    same(`${name}: transformers.js on the export vs tiktoken`,
      js.map((t) => Array.from(hf.encode(t, { add_special_tokens: false }))), jsWant);
    console.log(`${name}: ${texts.length} texts posttrain(dir) = tiktoken, ${js.length} texts transformers.js = tiktoken`);
  });
}

// ---- tokenizer.json sources (npm @lenml/tokenizer-*) ----------------------------------------

for (const [name, templates] of [["qwen3", ["chatml", "gpt4o"]], ["llama3", ["llama3", "chatml"]],
                                 ["gpt4o", ["gpt4o"]], ["llama2", ["chatml", "llama3"]]]) {
  const file = join(NPM, `tokenizer-${name}`, "models", "tokenizer.json");
  for (const template of templates) {
    test(`${name} tokenizer.json export (${template}) = transformers.js`,
      { skip: existsSync(file) ? false : `npm @lenml/tokenizer-${name} missing` }, () => {
        const { dir, hf } = checkTemplate(name, ["--tokenizer", file], template);
        const js = texts.filter(jsComparable);
        same(`${name}: posttrain --tokenizer DIR vs transformers.js`, encode(["--tokenizer", dir], js),
          js.map((t) => Array.from(hf.encode(t, { add_special_tokens: false }))));
      });
  }
}

// ---- llama2.c tokenizer.bin -----------------------------------------------------------------

for (const bin of ["tok512.bin", "tokenizer.bin"]) {
  const file = join(DATA, "llama2c", bin);
  for (const template of ["chatml", "llama3"]) {
    test(`llama2.c ${bin} export (${template}) = transformers.js`,
      { skip: existsSync(file) ? false : `${file} missing (set SHARED_DATA)` }, () => {
        const { dir, hf } = checkTemplate(bin, ["--tokenizer", file], template);
        const js = texts.filter(jsComparable);
        const want = encode(["--tokenizer", file], js);
        same(`${bin}: posttrain --tokenizer DIR vs the .bin`, encode(["--tokenizer", dir], js), want);
        same(`${bin}: transformers.js on the export vs posttrain on the .bin`,
          js.map((t) => Array.from(hf.encode(t, { add_special_tokens: false }))), want);
        console.log(`${bin}: ${js.length} texts identical`);
      });
  }
}
