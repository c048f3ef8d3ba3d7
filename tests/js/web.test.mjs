// web.test.mjs: the web chat page of `posttrain serve` in a real headless Chromium (Debian
// chromium, driven by npm playwright-core): type a message and watch the reply stream in,
// stop a reply, toggle the token view (the ids must be /apply-template's, the special
// tokens and the loss targets marked), start a new chat. Screenshots of the chat and of
// the token view go to build/artifacts/ (docs/serve.md shows them).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { ROOT, prepareModel, findChromium, startServer } from "./serve_helpers.mjs";

const chromium = await findChromium();
const model = prepareModel();
const skip = chromium.skip ?? model.skip ?? false;
if (skip) console.log(`skip: ${skip}`);

test("web chat page: stream, stop, token view, new chat", { skip, timeout: 120000 }, async () => {
  const srv = await startServer(model.dir, ["--parallel", "2", ...model.args]);
  const browser = await chromium.launch();
  const artifacts = join(ROOT, "build/artifacts");
  mkdirSync(artifacts, { recursive: true });
  try {
    const page = await browser.newPage({ viewport: { width: 1180, height: 760 } });
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    const streamed = {};
    page.on("response", (r) => {
      if (!r.url().endsWith("/v1/chat/completions") || streamed.request) return;
      streamed.request = JSON.parse(r.request().postData());
      streamed.contentType = r.headers()["content-type"];
    });
    await page.goto(srv.url);
    const modelId = (await (await fetch(`${srv.url}/v1/models`)).json()).data[0].id;
    await page.waitForFunction((id) => document.getElementById("model").textContent === id, modelId);

    // Count how often the reply's text changes while it streams.
    await page.evaluate(() => {
      window.__updates = 0;
      new MutationObserver(() => {
        const t = document.querySelector(".msg.assistant:last-child .text");
        if (t && t.textContent) window.__updates++;
      }).observe(document.getElementById("messages"), { subtree: true, childList: true, characterData: true });
    });
    await page.fill("#system", "You are a storyteller.");
    await page.fill("#max-tokens", "60");
    await page.fill("#input", "Tell me a story.");
    await page.press("#input", "Enter");
    await page.waitForSelector(".msg.user .text");
    await page.waitForSelector(".msg.assistant:not(.streaming)", { timeout: 30000 });
    const reply = await page.textContent(".msg.assistant .text");
    assert.ok(reply.length > 0, "a reply");
    assert.ok(!(await page.$(".msg.error")), await page.textContent("#messages"));
    // It was streamed: the page asked for SSE and got it; how many pieces the browser saw
    // depends on how fast the model is, so that count is only printed.
    assert.equal(streamed.request.stream, true);
    assert.match(streamed.contentType, /^text\/event-stream/);
    console.log(`the reply's text changed ${await page.evaluate(() => window.__updates)} times while streaming`);
    assert.match(await page.textContent(".msg.assistant .meta"), /(stop|length) · \d+ tokens/);
    assert.equal(await page.textContent(".msg.user .text"), "Tell me a story.");
    await page.screenshot({ path: join(artifacts, "serve-chat.png") });

    // A second turn, stopped as soon as it starts streaming (the model may be faster).
    await page.fill("#max-tokens", "2000");
    await page.fill("#input", "Another one, please.");
    await page.click("#send");
    // The reply may also end by itself first (the model emits its end token early).
    await page.waitForFunction(() => document.querySelectorAll(".msg").length === 4 &&
      (document.querySelector(".msg.assistant.streaming .text")?.textContent.length > 0 ||
       document.querySelector(".msg.assistant:last-child .meta").textContent.length > 0));
    await page.click("#stop", { timeout: 2000 }).catch(() => {});
    await page.waitForSelector("#send:not([hidden])");
    const meta = await page.textContent(".msg.assistant:last-child .meta");
    assert.match(meta, /^(stopped|stop|length)/);
    if (meta.startsWith("stopped")) {
      for (let i = 0; i < 50 && !/client left/.test(srv.log()); i++) await new Promise((r) => setTimeout(r, 100));
      assert.match(srv.log(), /client left: cancelled/, "the server cancelled the stopped reply");
    }
    assert.equal(await page.$$eval(".msg", (m) => m.length), 4);

    // The token view: the conversation as the model sees it.
    await page.check("#tokens-toggle");
    await page.waitForSelector("#tokens .tok");
    assert.ok(await page.isHidden("#messages"));
    const shown = await page.$$eval("#tokens .tok .id", (ids) => ids.map((x) => Number(x.textContent)));
    const history = await page.evaluate(() => {
      const m = [...document.querySelectorAll("#messages .msg")].map((d) => ({
        role: d.classList.contains("user") ? "user" : "assistant", content: d.querySelector(".text").textContent,
      }));
      return [{ role: "system", content: "You are a storyteller." }, ...m];
    });
    const tpl = await (await fetch(`${srv.url}/apply-template`, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ messages: history, add_generation_prompt: false }),
    })).json();
    assert.deepEqual(shown, tpl.tokens, "the page shows /apply-template's ids");
    assert.ok((await page.$$("#tokens .tok.special")).length >= 8, "special tokens marked");
    assert.ok((await page.$$("#tokens .tok.target")).length >= 2, "loss targets marked");
    assert.match(await page.textContent("#token-count"), /\d+ tokens · template chatml/);
    await page.screenshot({ path: join(artifacts, "serve-tokens.png") });
    await page.uncheck("#tokens-toggle");
    assert.ok(await page.isVisible("#messages"));

    // New chat: an empty conversation.
    await page.click("#new-chat");
    assert.equal(await page.$$eval(".msg", (m) => m.length), 0);
    assert.ok(await page.isVisible("#empty"));
    await page.fill("#input", "Hello");
    await page.press("#input", "Enter");
    await page.waitForSelector(".msg.assistant:not(.streaming)", { timeout: 30000 });
    assert.equal(await page.$$eval(".msg", (m) => m.length), 2);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    const exit = await srv.stop();
    assert.equal(exit.code, 0, srv.log());
  }
});

test("web chat page with --api-key: it asks for the key, then chats", { skip, timeout: 120000 }, async () => {
  const srv = await startServer(model.dir, ["--api-key", "sk-web", ...model.args]);
  const browser = await chromium.launch();
  try {
    const page = await browser.newPage();
    await page.goto(srv.url);  // the page itself needs no key
    await page.waitForSelector("#api-key-row:not([hidden])");
    assert.match(await page.textContent("#status"), /API key/);
    await page.fill("#api-key", "sk-web");
    await page.dispatchEvent("#api-key", "change");
    const modelId = (await (await fetch(`${srv.url}/v1/models`, { headers: { Authorization: "Bearer sk-web" } })).json()).data[0].id;
    await page.waitForFunction((id) => document.getElementById("model").textContent === id, modelId);
    await page.fill("#max-tokens", "8");
    await page.fill("#input", "Hello");
    await page.press("#input", "Enter");
    await page.waitForSelector(".msg.assistant:not(.streaming)", { timeout: 30000 });
    assert.ok(!(await page.$(".msg.error")), await page.textContent("#messages"));
    assert.match(await page.textContent(".msg.assistant .meta"), /\d+ tokens/);
  } finally {
    await browser.close();
    const exit = await srv.stop();
    assert.equal(exit.code, 0, srv.log());
  }
});
