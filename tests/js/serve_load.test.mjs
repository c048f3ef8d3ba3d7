// serve_load.test.mjs: 64 streaming clients at once (npm openai) against `posttrain serve
// --parallel 8`: each gets a whole, well-formed reply within a bounded time, the queue
// drains, the slots come back free, and the server exits cleanly afterwards. Then the
// same crowd leaves mid-stream, and the server is still fine.
import { test } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { prepareModel, startServer } from "./serve_helpers.mjs";

const CLIENTS = 64, MAX_TOKENS = 16;
const model = prepareModel();
if (model.skip) console.log(`skip: ${model.skip}`);

async function health(url) {
  return (await fetch(`${url}/health`)).json();
}

test(`${CLIENTS} concurrent streaming clients`, { skip: model.skip ?? false, timeout: 120000 }, async () => {
  const srv = await startServer(model.dir, ["--parallel", "8", "--quiet", ...model.args]);
  try {
    const client = new OpenAI({ baseURL: `${srv.url}/v1`, apiKey: "none", maxRetries: 0, timeout: 60000 });
    const MODEL = (await client.models.list()).data[0].id;
    const t0 = Date.now();
    const one = async (i) => {
      const stream = await client.chat.completions.create({
        model: MODEL, stream: true, max_tokens: MAX_TOKENS, seed: i, ignore_eos: true,
        stream_options: { include_usage: true },
        messages: [{ role: "user", content: `Tell me story number ${i}.` }],
      });
      let text = "", finish = null, usage = null;
      for await (const ch of stream) {
        if (ch.usage) usage = ch.usage;
        for (const c of ch.choices) {
          text += c.delta.content ?? "";
          finish = c.finish_reason ?? finish;
        }
      }
      return { text, finish, usage };
    };
    const results = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => one(i)));
    const secs = (Date.now() - t0) / 1000;
    console.log(`${CLIENTS} streams of ${MAX_TOKENS} tokens in ${secs.toFixed(2)} s`);
    assert.ok(secs < 60, `took ${secs} s`);
    for (const r of results) {
      assert.equal(r.finish, "length");
      assert.equal(r.usage.completion_tokens, MAX_TOKENS);
      assert.ok(r.text.length > 0);
    }
    // Seeds differ, so replies do too: the streams were not mixed up into one.
    assert.ok(new Set(results.map((r) => r.text)).size > CLIENTS / 2);
    const h = await health(srv.url);
    assert.equal(h.slots_busy, 0);
    assert.equal(h.queued, 0);
    assert.equal(h.requests, CLIENTS);
    assert.equal(h.tokens_generated, CLIENTS * MAX_TOKENS);

    // The same crowd leaves after its first chunk: every slot must come back.
    const leave = async (i) => {
      const ac = new AbortController();
      const r = await fetch(`${srv.url}/v1/chat/completions`, {
        method: "POST", signal: ac.signal, headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ model: MODEL, stream: true, max_tokens: 400, ignore_eos: true,
                               messages: [{ role: "user", content: `Story ${i}` }] }),
      });
      await r.body.getReader().read();
      ac.abort();
    };
    await Promise.all(Array.from({ length: CLIENTS }, (_, i) => leave(i)));
    let h2;
    for (let i = 0; i < 100; i++) {
      h2 = await health(srv.url);
      if (h2.slots_busy === 0 && h2.queued === 0) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(h2.slots_busy, 0);
    assert.equal(h2.queued, 0);
    assert.ok(h2.tokens_generated - h.tokens_generated < CLIENTS * 400, "cancelled, not run to the end");
    const after = await client.chat.completions.create({ model: MODEL, max_tokens: 4, messages: [{ role: "user", content: "Hi" }] });
    assert.equal(after.choices.length, 1);
  } finally {
    const exit = await srv.stop("SIGTERM");
    assert.equal(exit.code, 0, srv.log());
  }
});
