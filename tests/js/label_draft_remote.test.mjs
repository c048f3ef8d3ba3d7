// label_draft_remote.test.mjs: the labeling app drafting through a remote OpenAI-compatible
// API (`serve --label DB --draft-api-base URL`): one `posttrain serve` holds the model,
// a second one, with no model of its own, serves the labeling app and asks the first for
// drafts over HTTP with the API key read from the named variable.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { POSTTRAIN, ROOT, prepareModel, startServer } from "./serve_helpers.mjs";

const model = prepareModel();
const skip = model.skip ?? false;
if (skip) console.log(`skip: ${skip}`);

function cli(args, input) {
  const r = spawnSync(POSTTRAIN, args, { cwd: ROOT, encoding: "utf8", input });
  assert.equal(r.status, 0, `posttrain ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

test("drafts from a remote API", { skip, timeout: 120000 }, async () => {
  const db = join(model.tmp, "remote.sqlite");
  cli(["label", "init", db, "--project", "p"]);
  cli(["label", "user", "add", db, "--name", "ann", "--role", "labeler", "--password-stdin"], "ann-pass-1\n");
  const api = await startServer(model.dir, ["--api-key", "K", "--quiet", ...model.args]);
  process.env.PT_TEST_DRAFT_KEY = "K";
  const id = (await (await fetch(`${api.url}/v1/models`, { headers: { authorization: "Bearer K" } })).json()).data[0].id;
  const app = await startServer(null, ["--label", db, "--draft-api-base", api.url, "--draft-model", id,
                                       "--draft-api-key-env", "PT_TEST_DRAFT_KEY", "--quiet"]);
  try {
    const r = await fetch(`${app.url}/label/login`, {
      method: "POST", redirect: "manual", body: new URLSearchParams({ name: "ann", password: "ann-pass-1" }),
    });
    const cookie = r.headers.get("set-cookie").split(";")[0];
    const home = await (await fetch(`${app.url}/label/`, { headers: { cookie } })).text();
    const csrf = /name="csrf" value="([0-9a-f]+)"/.exec(home)[1];
    const post = (path, fields) => fetch(`${app.url}${path}`, {
      method: "POST", redirect: "manual", headers: { cookie }, body: new URLSearchParams({ csrf, ...fields }),
    });
    const p = await post("/label/project/1/prompt", { category: "chat", text: "Tell me a story." });
    const prompt = /\/(\d+)$/.exec(p.headers.get("location"))[1];
    const d = await post(`/label/message/${prompt}/draft`, {});
    assert.equal(d.status, 303, await d.text());
    assert.match(d.headers.get("location"), /^\/label\/draft\/\d+$/);
    const page = await (await fetch(`${app.url}${d.headers.get("location")}`, { headers: { cookie } })).text();
    assert.ok(page.includes(`Drafted by <b>${id}</b>`), "the remote model's name");
    assert.match(page, /<pre class="text draft">[^<]+<\/pre>/, "a draft with text");
    // The model server saw the request (its access log is off; its counters are not).
    const health = await (await fetch(`${api.url}/health`)).json();
    assert.ok(health.requests >= 1, JSON.stringify(health));
  } finally {
    await app.stop();
    await api.stop();
  }
  for (const srv of [app, api]) assert.doesNotMatch(srv.log(), /AddressSanitizer|LeakSanitizer|runtime error/, srv.log());
});
