// serve.test.mjs: `posttrain serve` driven by the real OpenAI client (npm openai) and by
// plain fetch: chat and text completions (non-stream and stream), stop strings,
// max_tokens, n, seeds, logprobs, usage; the errors an OpenAI client expects (bad key,
// bad JSON, wrong types, unknown model, too long, too large); /v1/models, /health,
// /tokenize, /detokenize, /apply-template (which must give the ids of `posttrain render`:
// serving renders conversations exactly as training did); a client that leaves
// mid-stream; SIGTERM with a reply running. The model is small (serve_helpers.mjs).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import OpenAI, { AuthenticationError, BadRequestError, NotFoundError } from "openai";
import { POSTTRAIN, prepareModel, startServer } from "./serve_helpers.mjs";

const KEY = "sk-posttrain-test";
const model = prepareModel();
if (model.skip) console.log(`skip: ${model.skip}`);
const skip = model.skip ?? false;
let srv, client, MODEL;

before(async () => {
  if (skip) return;
  srv = await startServer(model.dir, ["--parallel", "4", "--api-key", KEY, ...model.args]);
  client = new OpenAI({ baseURL: `${srv.url}/v1`, apiKey: KEY, maxRetries: 0 });
  MODEL = (await client.models.list()).data[0].id;
});

after(async () => {
  if (!srv) return;
  const exit = await srv.stop("SIGTERM");
  assert.equal(exit.code, 0, `server exit ${JSON.stringify(exit)}\n${srv.log()}`);
  assert.match(srv.log(), /stopped/);
});

const USER = [{ role: "user", content: "Tell me a story." }];

async function post(path, body, { key = KEY, raw = false } = {}) {
  const r = await fetch(`${srv.url}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(key ? { Authorization: `Bearer ${key}` } : {}) },
    body: raw ? body : JSON.stringify(body),
  });
  return { status: r.status, json: await r.json() };
}

function assertOpenAIError(json, status, r) {
  assert.equal(r, status);
  assert.equal(typeof json.error?.message, "string", JSON.stringify(json));
  assert.ok(json.error.message.length > 0);
  assert.equal(typeof json.error.type, "string");
  assert.ok("param" in json.error && "code" in json.error, JSON.stringify(json));
}

test("/health and /v1/models", { skip }, async () => {
  const h = await (await fetch(`${srv.url}/health`)).json();  // no key needed
  assert.equal(h.status, "ok");
  assert.equal(h.slots, 4);
  const list = await client.models.list();
  assert.equal(list.data.length, 1);
  assert.equal(list.data[0].object, "model");
  assert.equal(list.data[0].owned_by, "posttrain");
  assert.equal(list.data[0].chat_template, "chatml");
  const one = await client.models.retrieve(MODEL);
  assert.equal(one.id, MODEL);
});

test("chat: non-stream reply, usage counts the rendered prompt", { skip }, async () => {
  const r = await client.chat.completions.create({ model: MODEL, messages: USER, max_tokens: 20, seed: 7 });
  assert.equal(r.object, "chat.completion");
  assert.match(r.id, /^chatcmpl-/);
  assert.equal(r.model, MODEL);
  assert.equal(r.choices.length, 1);
  const c = r.choices[0];
  assert.equal(c.index, 0);
  assert.equal(c.message.role, "assistant");
  assert.equal(typeof c.message.content, "string");
  assert.ok(["stop", "length"].includes(c.finish_reason));
  const tpl = await post("/apply-template", { messages: USER });
  assert.equal(r.usage.prompt_tokens, tpl.json.tokens.length);
  assert.ok(r.usage.completion_tokens >= 1 && r.usage.completion_tokens <= 20);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
  if (c.finish_reason === "length") assert.equal(r.usage.completion_tokens, 20);
});

test("chat: the stream gives the non-stream reply, chunk by chunk, then usage", { skip }, async () => {
  const args = { model: MODEL, messages: USER, max_tokens: 40, seed: 11, temperature: 0.9 };
  const whole = await client.chat.completions.create(args);
  const stream = await client.chat.completions.create({ ...args, stream: true, stream_options: { include_usage: true } });
  let text = "", chunks = 0, finish = null, usage = null, role = null;
  for await (const ch of stream) {
    assert.equal(ch.object, "chat.completion.chunk");
    if (ch.usage) usage = ch.usage;
    if (!ch.choices.length) continue;
    chunks++;
    const d = ch.choices[0].delta;
    if (d.role) role = d.role;
    text += d.content ?? "";
    if (ch.choices[0].finish_reason) finish = ch.choices[0].finish_reason;
  }
  assert.equal(role, "assistant");
  assert.ok(chunks >= 3, `${chunks} chunks`);
  assert.equal(text, whole.choices[0].message.content);
  assert.equal(finish, whole.choices[0].finish_reason);
  assert.deepEqual(usage, whole.usage);
});

test("completions: max_tokens ends with length; the stream agrees", { skip }, async () => {
  const args = { model: MODEL, prompt: "Once upon a time", max_tokens: 12, temperature: 0, ignore_eos: true };
  const r = await client.completions.create(args);
  assert.equal(r.object, "text_completion");
  assert.match(r.id, /^cmpl-/);
  assert.equal(r.choices[0].finish_reason, "length");
  assert.equal(r.usage.completion_tokens, 12);
  assert.ok(r.choices[0].text.length > 0);
  let text = "";
  for await (const ch of await client.completions.create({ ...args, stream: true })) text += ch.choices[0]?.text ?? "";
  assert.equal(text, r.choices[0].text);
  // The prompt is a document: BOS first (a Llama model), as llama.cpp and HF do.
  const ids = await post("/tokenize", { content: "Once upon a time", add_special: true });
  assert.equal(r.usage.prompt_tokens, ids.json.tokens.length);
  // Token ids as the prompt give the same tokens.
  const byIds = await client.completions.create({ ...args, prompt: ids.json.tokens });
  assert.equal(byIds.choices[0].text, r.choices[0].text);
});

test("stop strings cut the reply before the match", { skip }, async () => {
  const args = { model: MODEL, prompt: "Once upon a time", max_tokens: 40, temperature: 0, ignore_eos: true };
  const full = (await client.completions.create(args)).choices[0].text;
  // A word from the middle of the greedy text: generation stops right before it. (ASCII
  // letters: a random model's text is full of U+FFFD, which stand for other bytes.)
  const words = [...full.matchAll(/[A-Za-z]{2,}/g)].filter((m) => m.index > 0);
  assert.ok(words.length >= 1, `no word to stop at in ${JSON.stringify(full)}`);
  const stop = words[Math.min(2, words.length - 1)][0];
  const cut = full.indexOf(stop);
  for (const stream of [false, true]) {
    let text = "", finish;
    if (stream) {
      for await (const ch of await client.completions.create({ ...args, stop: [stop, "never matches"], stream: true })) {
        text += ch.choices[0]?.text ?? "";
        finish = ch.choices[0]?.finish_reason ?? finish;
      }
    } else {
      const r = await client.completions.create({ ...args, stop });
      text = r.choices[0].text;
      finish = r.choices[0].finish_reason;
    }
    assert.equal(text, full.slice(0, cut), `stream=${stream}`);
    assert.equal(finish, "stop");
  }
});

test("seed: same seed, same reply; n choices are seeded apart and reproducible", { skip }, async () => {
  const chat = { model: MODEL, messages: USER, max_tokens: 24, temperature: 1 };
  const a = await client.chat.completions.create({ ...chat, seed: 42 });
  const b = await client.chat.completions.create({ ...chat, seed: 42 });
  assert.equal(a.choices[0].message.content, b.choices[0].message.content);
  // A document prompt leaves the model more freedom than the two replies it was tuned on.
  const args = { model: MODEL, prompt: "Once upon a time", max_tokens: 30, temperature: 1, ignore_eos: true };
  const texts = new Set();
  for (const seed of [1, 2, 3, 4]) texts.add((await client.completions.create({ ...args, seed })).choices[0].text);
  assert.ok(texts.size >= 2, "different seeds give different replies");
  const n1 = await client.completions.create({ ...args, seed: 5, n: 3 });
  const n2 = await client.completions.create({ ...args, seed: 5, n: 3 });
  assert.deepEqual(n1.choices.map((c) => c.index), [0, 1, 2]);
  assert.deepEqual(n1.choices.map((c) => c.text), n2.choices.map((c) => c.text));
  assert.ok(new Set(n1.choices.map((c) => c.text)).size >= 2);
  assert.equal(n1.usage.completion_tokens, 3 * 30);
  // Choice i of n samples with seed + i: choice 1 is the single reply with seed 6.
  const single = await client.completions.create({ ...args, seed: 6 });
  assert.equal(n1.choices[1].text, single.choices[0].text);
  // Streaming n (chat): every index appears, in the same texts as without streaming.
  const whole = await client.chat.completions.create({ ...chat, max_tokens: 40, seed: 5, n: 3 });
  const seen = new Map();
  for await (const ch of await client.chat.completions.create({ ...chat, max_tokens: 40, seed: 5, n: 3, stream: true })) {
    for (const c of ch.choices) seen.set(c.index, (seen.get(c.index) ?? "") + (c.delta.content ?? ""));
  }
  assert.deepEqual([...seen.keys()].sort(), [0, 1, 2]);
  assert.deepEqual([0, 1, 2].map((i) => seen.get(i)), whole.choices.map((c) => c.message.content));
});

test("logprobs: chat content entries and completions' token lists", { skip }, async () => {
  const r = await client.chat.completions.create({
    model: MODEL, messages: USER, max_tokens: 8, temperature: 0, logprobs: true, top_logprobs: 3, ignore_eos: true,
  });
  const lp = r.choices[0].logprobs.content;
  assert.equal(lp.length, 8);
  for (const e of lp) {
    assert.equal(typeof e.token, "string");
    assert.ok(e.logprob <= 0);
    assert.ok(Array.isArray(e.bytes));
    assert.equal(e.top_logprobs.length, 3);
    // Greedy: the chosen token is the most likely one.
    assert.ok(Math.abs(e.top_logprobs[0].logprob - e.logprob) < 1e-6);
    assert.ok(e.top_logprobs[0].logprob >= e.top_logprobs[1].logprob);
  }
  assert.equal(Buffer.from(lp.flatMap((e) => e.bytes)).toString(), r.choices[0].message.content);
  const c = await client.completions.create({ model: MODEL, prompt: "Once upon a time", max_tokens: 5, temperature: 0, logprobs: 2, ignore_eos: true });
  const clp = c.choices[0].logprobs;
  assert.equal(clp.tokens.length, 5);
  assert.equal(clp.token_logprobs.length, 5);
  assert.equal(Object.keys(clp.top_logprobs[0]).length, 2);
  assert.equal(clp.text_offset[0], 0);
  assert.equal(clp.tokens.join(""), c.choices[0].text);
});

test("errors: bad key, bad JSON, wrong types, unknown model, too long, too large", { skip }, async () => {
  const bad = new OpenAI({ baseURL: `${srv.url}/v1`, apiKey: "wrong", maxRetries: 0 });
  await assert.rejects(bad.chat.completions.create({ model: MODEL, messages: USER }),
    (e) => e instanceof AuthenticationError && e.status === 401 && e.code === "invalid_api_key");
  let r = await post("/v1/chat/completions", { model: MODEL, messages: USER }, { key: null });
  assertOpenAIError(r.json, 401, r.status);
  r = await post("/v1/chat/completions", "{\"messages\": [", { raw: true });
  assertOpenAIError(r.json, 400, r.status);
  r = await post("/v1/chat/completions", "[1, 2]", { raw: true });
  assertOpenAIError(r.json, 400, r.status);
  await assert.rejects(client.chat.completions.create({ model: MODEL, messages: USER, temperature: "hot" }),
    (e) => e instanceof BadRequestError && e.param === "temperature");
  await assert.rejects(client.chat.completions.create({ model: MODEL, messages: USER, max_tokens: 1.5 }),
    (e) => e instanceof BadRequestError && e.param === "max_tokens");
  await assert.rejects(client.chat.completions.create({ model: MODEL, messages: USER, n: 0 }),
    (e) => e instanceof BadRequestError && e.param === "n");
  await assert.rejects(client.chat.completions.create({ model: MODEL, messages: USER, stop: [1] }),
    (e) => e instanceof BadRequestError && e.param === "stop");
  await assert.rejects(client.chat.completions.create({ model: MODEL, messages: [{ role: "wizard", content: "hi" }] }),
    (e) => e instanceof BadRequestError && e.param === "messages" && /messages\[0\]\.role/.test(e.message));
  await assert.rejects(client.chat.completions.create({ model: MODEL, messages: "hi" }),
    (e) => e instanceof BadRequestError && e.param === "messages");
  await assert.rejects(client.chat.completions.create({ model: MODEL, messages: [] }),
    (e) => e instanceof BadRequestError);
  await assert.rejects(client.chat.completions.create({ model: "gpt-4o", messages: USER }),
    (e) => e instanceof NotFoundError && e.code === "model_not_found");
  await assert.rejects(client.completions.create({ model: MODEL, prompt: [1, 2, 1 << 30] }),
    (e) => e instanceof BadRequestError && e.param === "prompt");
  const long = "Once upon a time there was a dog. ".repeat(200);
  await assert.rejects(client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: long }] }),
    (e) => e instanceof BadRequestError && e.code === "context_length_exceeded" && /maximum context length is \d+ tokens/.test(e.message));
  await assert.rejects(client.completions.create({ model: MODEL, prompt: long, stream: true }),
    (e) => e instanceof BadRequestError && e.code === "context_length_exceeded");
  r = await post("/v1/chat/completions", JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "x".repeat(9 << 20) }] }), { raw: true });
  assertOpenAIError(r.json, 413, r.status);
  r = await post("/v1/nothing", {});
  assertOpenAIError(r.json, 404, r.status);
  const g = await fetch(`${srv.url}/v1/chat/completions`, { headers: { Authorization: `Bearer ${KEY}` } });
  assertOpenAIError(await g.json(), 405, g.status);
  // The server is still fine.
  const ok = await client.chat.completions.create({ model: MODEL, messages: USER, max_tokens: 2 });
  assert.equal(ok.choices.length, 1);
});

test("/tokenize, /detokenize: round trip, pieces, specials", { skip }, async () => {
  const text = "Once upon a time, Lily saw a <|im_end|> sign.";
  const t = await post("/tokenize", { content: text });
  assert.equal(t.status, 200);
  assert.ok(t.json.tokens.every(Number.isInteger));
  const d = await post("/detokenize", { tokens: t.json.tokens });
  assert.equal(d.json.content, text);
  // The spelling of a special token is text unless parse_special.
  const im_end = (await post("/tokenize", { content: "<|im_end|>", parse_special: true })).json.tokens;
  assert.equal(im_end.length, 1);
  assert.ok(!t.json.tokens.includes(im_end[0]));
  const p = await post("/tokenize", { content: text, with_pieces: true });
  assert.deepEqual(p.json.tokens.map((x) => x.id), t.json.tokens);
  // A SentencePiece-style vocabulary (llama2.c's) has a space before the first word,
  // which decoding drops.
  assert.equal(p.json.tokens.map((x) => x.piece).join("").replace(/^ /, ""), text);
  const bos = await post("/tokenize", { content: "Hi", add_special: true });
  assert.equal(bos.json.tokens.length, (await post("/tokenize", { content: "Hi" })).json.tokens.length + (model.bos ? 1 : 0));
  const bad = await post("/detokenize", { tokens: [1, -5] });
  assertOpenAIError(bad.json, 400, bad.status);
  const bad2 = await post("/tokenize", { content: 5 });
  assertOpenAIError(bad2.json, 400, bad2.status);
});

test("/apply-template gives the ids and mask of `posttrain render`", { skip }, async () => {
  const messages = [
    { role: "system", content: "You are a storyteller." },
    { role: "user", content: "Tell me a story." },
    { role: "assistant", content: "Once upon a time, there was a cat." },
    { role: "user", content: "More!" },
  ];
  const file = join(model.tmp, "render.jsonl");
  writeFileSync(file, JSON.stringify({ messages }) + "\n");
  for (const gen of [true, false]) {
    const r = await post("/apply-template", { messages, add_generation_prompt: gen });
    assert.equal(r.status, 200);
    const args = ["render", "--tokenizer", model.dir, "--template", "chatml", "--json", file];
    if (gen) args.push("--add-generation-prompt");
    const ref = spawnSync(POSTTRAIN, args, { encoding: "utf8" });
    assert.equal(ref.status, 0, ref.stderr);
    const want = JSON.parse(ref.stdout.trim());
    assert.deepEqual(r.json.tokens, want.ids);
    assert.deepEqual(r.json.mask, want.mask);
    assert.equal(r.json.template, "chatml");
    assert.match(r.json.prompt, /^<\|im_start\|> ?system\n/);
    assert.equal(/<\|im_start\|> ?assistant\n$/.test(r.json.prompt), gen);
  }
  const p = await post("/apply-template", { messages, with_pieces: true });
  assert.equal(p.json.tokens.map((x) => typeof x.piece === "string" ? x.piece : "").join(""), p.json.prompt);
  assert.ok(p.json.tokens.some((x) => x.special));
});

test("a client that leaves mid-stream cancels its sequence", { skip }, async () => {
  const before = (await (await fetch(`${srv.url}/health`)).json()).tokens_generated;
  const ac = new AbortController();
  const r = await fetch(`${srv.url}/v1/completions`, {
    method: "POST", signal: ac.signal,
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${KEY}` },
    body: JSON.stringify({ model: MODEL, prompt: "Once upon a time", max_tokens: 450, stream: true, ignore_eos: true }),
  });
  const reader = r.body.getReader();
  await reader.read();
  ac.abort();
  await assert.rejects(reader.read());
  let h;
  for (let i = 0; i < 50; i++) {
    h = await (await fetch(`${srv.url}/health`)).json();
    if (h.slots_busy === 0) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.equal(h.slots_busy, 0);
  assert.match(srv.log(), /client left: cancelled/);
  const m = /POST \/v1\/completions 200 stream prompt=\d+ completion=(\d+) n=1 [\d.]+s \(client left/.exec(srv.log());
  assert.ok(m && Number(m[1]) < 450, `cancelled before the end: ${m && m[1]} tokens`);
  assert.ok(h.tokens_generated - before < 450);

  // Non-stream: the connection waits with nothing to write; it notices the client leave
  // by polling its socket. 16 choices of 450 tokens keep the slots busy long enough.
  const ac2 = new AbortController();
  const gone = fetch(`${srv.url}/v1/completions`, {
    method: "POST", signal: ac2.signal,
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${KEY}` },
    body: JSON.stringify({ model: MODEL, prompt: "Once upon a time", max_tokens: 450, n: 16, ignore_eos: true }),
  });
  for (let i = 0; i < 200; i++) {
    h = await (await fetch(`${srv.url}/health`)).json();
    if (h.slots_busy > 0) break;
    await new Promise((res) => setTimeout(res, 5));
  }
  ac2.abort();
  await assert.rejects(gone);
  for (let i = 0; i < 50; i++) {
    h = await (await fetch(`${srv.url}/health`)).json();
    if (h.slots_busy === 0 && h.queued === 0) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.equal(h.slots_busy, 0);
  assert.equal(h.queued, 0);
  assert.match(srv.log(), /POST \/v1\/completions 499 prompt=\d+ completion=\d+ n=16 [\d.]+s \(client left: cancelled\)/);
});

test("SIGTERM: a running reply finishes, queued ones get 503, the server exits 0", { skip }, async () => {
  const s2 = await startServer(model.dir, ["--parallel", "1", "--grace", "120", ...model.args]);
  const c2 = new OpenAI({ baseURL: `${s2.url}/v1`, apiKey: "none", maxRetries: 0 });
  const args = { model: MODEL, prompt: "Once upon a time", max_tokens: 150, ignore_eos: true };
  const running = c2.completions.create(args);
  const queued = c2.completions.create(args);
  for (let i = 0; i < 100; i++) {  // until one runs and the other waits
    const h = await (await fetch(`${s2.url}/health`)).json();
    if (h.slots_busy === 1 && h.queued === 1) break;
    await new Promise((res) => setTimeout(res, 2));
  }
  process.kill(s2.pid, "SIGTERM");
  const [a, b] = await Promise.allSettled([running, queued]);
  const exit = await s2.exited;
  assert.equal(exit.code, 0, s2.log());
  // Whichever was running finished in full; the other failed with 503 (or, if it had
  // already started too, finished as well).
  const done = [a, b].filter((x) => x.status === "fulfilled");
  assert.ok(done.length >= 1, JSON.stringify([a, b].map((x) => x.reason?.message)));
  for (const d of done) assert.equal(d.value.usage.completion_tokens, 150);
  for (const x of [a, b].filter((x) => x.status === "rejected")) assert.equal(x.reason.status, 503);
});
