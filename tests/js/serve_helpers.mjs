// serve_helpers.mjs: what the `posttrain serve` tests share — a small chat model and a
// server on a free loopback port.
//
// The model: llama2.c's stories260K (../shared/data) converted, then fine-tuned for two
// steps on two conversations with the chatml template, which grows its vocabulary by the
// template's tokens (<|im_start|>, <|im_end|>) so that chat prompts are valid. Without
// ../shared: a random Llama (tests/torch/make_model.py, needs torch) over a BPE vocabulary
// trained here on the docs, chat tokens included. Neither is a good assistant; the tests
// check the protocol, not the prose.
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const POSTTRAIN = process.env.POSTTRAIN || join(ROOT, "posttrain");
const DATA = resolve(ROOT, process.env.SHARED_DATA || "../shared/data");

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr || r.error}`);
  return r;
}

// -> { dir, args (extra serve options), tmp, bos (its tokenizer has a BOS) } or { skip: "reason" }.
export function prepareModel() {
  if (!existsSync(POSTTRAIN)) return { skip: `${POSTTRAIN} missing: run make` };
  const tmp = mkdtempSync(join(tmpdir(), "pt-serve-"));
  process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));
  const stories = join(DATA, "llama2c/stories260K.bin");
  if (existsSync(stories)) {
    run(POSTTRAIN, ["convert", stories, join(tmp, "base"), "--tokenizer", join(DATA, "llama2c/tok512.bin")]);
    const conv = join(tmp, "conv.jsonl");
    writeFileSync(conv, [
      [{ role: "user", content: "Tell me a story." },
       { role: "assistant", content: "Once upon a time, there was a little girl named Lily. She liked to play outside." }],
      [{ role: "user", content: "Who is Tom?" }, { role: "assistant", content: "Tom is a boy. He has a big red ball." }],
    ].map((m) => JSON.stringify({ messages: m })).join("\n") + "\n");
    run(POSTTRAIN, ["train", "--model", join(tmp, "base"), "--data", conv, "--out", join(tmp, "stories"),
                    "--steps", "2", "--template", "chatml", "--seq-len", "128", "--batch-size", "2",
                    "--lr", "1e-3", "--quiet"]);
    return { dir: join(tmp, "stories"), args: [], tmp, bos: true };
  }
  const py = spawnSync("/usr/bin/python3", ["-c", "import torch"]);
  if (py.status !== 0) return { skip: `${stories} missing (set SHARED_DATA) and no torch for a random model` };
  const dir = join(tmp, "random");
  run("/usr/bin/python3", ["tests/torch/make_model.py", "--arch", "llama", "--out", dir, "--vocab", "400",
                           "--dim", "64", "--ctx", "512", "--kv-heads", "2"]);
  const docs = readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => join("docs", f));
  run(POSTTRAIN, ["tokenizer", "train", "--vocab-size", "400", "--special", "<|im_start|>",
                  "--special", "<|im_end|>", "--out", join(tmp, "tokenizer.json"), "README.md", ...docs]);
  copyFileSync(join(tmp, "tokenizer.json"), join(dir, "tokenizer.json"));
  return { dir, args: ["--template", "chatml"], tmp, bos: false };
}

// Starts `posttrain serve` on a free port (dir null: no model, e.g. the labeling app
// alone). -> { url, port, log(), stop(signal) -> exit }.
export async function startServer(dir, args = []) {
  const child = spawn(POSTTRAIN, ["serve", ...(dir ? ["--model", dir] : []), "--port", "0", ...args],
                      { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  const exited = new Promise((res) => child.on("exit", (code, signal) => res({ code, signal })));
  const port = await new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`server did not start:\n${log}`)), 30000);
    child.stderr.on("data", (d) => {
      log += d;
      const m = /listening on http:\/\/[^\s]*:(\d+)\//.exec(log);
      if (m) {
        clearTimeout(timer);
        res(Number(m[1]));
      }
    });
    child.on("exit", () => rej(new Error(`server exited at start:\n${log}`)));
  });
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    log: () => log,
    pid: child.pid,
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    exited,
  };
}

// Headless Chromium (Debian chromium, $CHROMIUM) driven by npm playwright-core.
// -> { launch() -> Browser } or { skip: "reason" }.
export async function findChromium() {
  const path = process.env.CHROMIUM || "/usr/bin/chromium";
  let chromium = null;
  try {
    ({ chromium } = await import("playwright-core"));
  } catch {}
  if (!chromium) return { skip: "npm playwright-core missing (npm ci)" };
  if (!existsSync(path)) return { skip: `${path} missing (apt-get install chromium)` };
  return { launch: () => chromium.launch({ executablePath: path, args: ["--no-sandbox"] }) };
}
