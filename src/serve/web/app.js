// app.js: the web chat page. The conversation lives here (the server is stateless): each
// turn POSTs the whole message list to /v1/chat/completions with stream: true and reads
// the server-sent events as they come. The token view asks /apply-template for the ids
// the model sees — the same rendering training uses — and shows them as colored pieces.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { messages: [], model: null, busy: null /* AbortController of the running reply */ };

function headers() {
  const h = { "Content-Type": "application/json" };
  const key = localStorage.getItem("posttrain-api-key");
  if (key) h.Authorization = `Bearer ${key}`;
  return h;
}

async function api(path, body) {
  const r = await fetch(path, body === undefined ? { headers: headers() }
    : { method: "POST", headers: headers(), body: JSON.stringify(body) });
  const j = await r.json().catch(() => ({}));
  if (!r.ok) throw apiError(r, j);
  return j;
}

function apiError(r, j) {
  if (r.status === 401) $("api-key-row").hidden = false;
  return new Error(j?.error?.message || `HTTP ${r.status}`);
}

function status(text) { $("status").textContent = text || ""; }

// The conversation sent to the model: the system prompt box, then the turns.
function conversation() {
  const sys = $("system").value.trim();
  return (sys ? [{ role: "system", content: sys }] : []).concat(state.messages);
}

function addBubble(role, text) {
  $("empty").hidden = true;
  const div = document.createElement("div");
  div.className = `msg ${role}`;
  const who = document.createElement("div");
  who.className = "role";
  who.textContent = role;
  const body = document.createElement("div");
  body.className = "text";
  body.textContent = text;
  const meta = document.createElement("div");
  meta.className = "meta";
  div.append(who, body, meta);
  $("messages").append(div);
  div.scrollIntoView({ block: "end" });
  return { div, body, meta };
}

function setBusy(controller) {
  state.busy = controller;
  $("send").hidden = !!controller;
  $("stop").hidden = !controller;
}

// Reads an SSE stream of chat.completion.chunk objects; calls onChunk for each.
async function readEvents(response, onChunk) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let pending = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    pending += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = pending.indexOf("\n\n")) >= 0) {
      const event = pending.slice(0, cut);
      pending = pending.slice(cut + 2);
      for (const line of event.split("\n")) {
        if (!line.startsWith("data:")) continue;
        const data = line.slice(5).trim();
        if (data === "[DONE]") return;
        onChunk(JSON.parse(data));
      }
    }
  }
}

async function send(text) {
  if (state.busy || !text.trim()) return;
  state.messages.push({ role: "user", content: text });
  addBubble("user", text);
  const bubble = addBubble("assistant", "");
  bubble.div.classList.add("streaming");
  const reply = { role: "assistant", content: "" };
  const controller = new AbortController();
  setBusy(controller);
  status("");
  const started = performance.now();
  let usage = null, finish = null;
  try {
    const r = await fetch("/v1/chat/completions", {
      method: "POST", headers: headers(), signal: controller.signal,
      body: JSON.stringify({
        model: state.model, messages: conversation(), stream: true,
        stream_options: { include_usage: true },
        temperature: Number($("temperature").value), top_p: Number($("top-p").value),
        max_tokens: Number($("max-tokens").value) || 256,
      }),
    });
    if (!r.ok) throw apiError(r, await r.json().catch(() => ({})));
    await readEvents(r, (chunk) => {
      if (chunk.error) throw new Error(chunk.error.message);
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices?.[0];
      if (!choice) return;
      if (choice.delta?.content) {
        reply.content += choice.delta.content;
        bubble.body.textContent = reply.content;
        bubble.div.scrollIntoView({ block: "end" });
      }
      if (choice.finish_reason) finish = choice.finish_reason;
    });
  } catch (err) {
    if (err.name === "AbortError") finish = "stopped";
    else {
      bubble.div.classList.add("error");
      bubble.body.textContent = reply.content ? `${reply.content}\n\n${err.message}` : err.message;
      finish = "error";
    }
  }
  bubble.div.classList.remove("streaming");
  const secs = (performance.now() - started) / 1000;
  const n = usage ? usage.completion_tokens : null;
  bubble.meta.textContent = [finish, n !== null ? `${n} tokens` : null,
    n ? `${(n / secs).toFixed(1)} tok/s` : null].filter(Boolean).join(" · ");
  if (finish !== "error") state.messages.push(reply);
  else state.messages.pop();  // the failed turn is not part of the conversation
  setBusy(null);
  if (!$("token-view").hidden) showTokens();
}

// The token view: the conversation rendered by the server's chat template.
async function showTokens() {
  const box = $("tokens");
  const msgs = conversation();
  box.textContent = "";
  if (!msgs.length) {
    $("token-count").textContent = "No messages yet: this is what an empty conversation renders to.";
  }
  try {
    const last = msgs[msgs.length - 1];
    const r = await api("/apply-template", {
      messages: msgs, with_pieces: true,
      add_generation_prompt: !last || last.role !== "assistant",
    });
    r.tokens.forEach((t, i) => {
      const span = document.createElement("span");
      span.className = `tok c${i % 4}` + (t.special ? " special" : "") + (r.mask?.[i] ? " target" : "");
      const piece = document.createElement("span");
      piece.className = "piece";
      const text = typeof t.piece === "string" ? t.piece
        : t.piece.map((b) => `<0x${b.toString(16).padStart(2, "0").toUpperCase()}>`).join("");
      // Whitespace made visible: a token of spaces alone would be an empty box.
      piece.textContent = /^ +$/.test(text) ? "␣".repeat(text.length)
        : text.replace(/\n/g, "↵").replace(/\t/g, "→") || "∅";
      const id = document.createElement("span");
      id.className = "id";
      id.textContent = t.id;
      span.append(piece, id);
      span.title = `id ${t.id}${t.special ? " (special)" : ""}${r.mask?.[i] ? " · target" : ""}`;
      box.append(span);
      if (typeof t.piece === "string" && t.piece.endsWith("\n")) {
        const br = document.createElement("div");
        br.className = "tok-break";
        box.append(br);
      }
    });
    $("token-count").textContent = `${r.tokens.length} tokens · template ${r.template}` +
      (r.add_generation_prompt ? " · ends with the generation prompt the model continues from" : "");
  } catch (err) {
    $("token-count").textContent = err.message;
  }
}

function newChat() {
  if (state.busy) state.busy.abort();
  state.messages = [];
  for (const m of [...document.querySelectorAll("#messages .msg")]) m.remove();
  $("empty").hidden = false;
  status("");
  if (!$("token-view").hidden) showTokens();
  $("input").focus();
}

function init() {
  for (const [id, out] of [["temperature", "temperature-out"], ["top-p", "top-p-out"]]) {
    const update = () => { $(out).textContent = $(id).value; };
    $(id).addEventListener("input", update);
    update();
  }
  $("api-key").value = localStorage.getItem("posttrain-api-key") || "";
  $("api-key").addEventListener("change", () => {
    localStorage.setItem("posttrain-api-key", $("api-key").value);
    loadModel();
  });
  $("composer").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = $("input").value;
    $("input").value = "";
    send(text);
  });
  $("input").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("stop").addEventListener("click", () => state.busy && state.busy.abort());
  $("new-chat").addEventListener("click", newChat);
  $("tokens-toggle").addEventListener("change", () => {
    const on = $("tokens-toggle").checked;
    $("token-view").hidden = !on;
    $("messages").hidden = on;
    if (on) showTokens();
  });
  loadModel();
  $("input").focus();
}

function loadModel() {
  api("/v1/models").then((r) => {
    state.model = r.data[0].id;
    $("model").textContent = state.model;
    status("");
  }).catch((err) => { $("model").textContent = ""; status(err.message); });
}

init();
