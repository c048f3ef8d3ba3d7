// label_security.test.mjs: the labeling web app (/label/ of `posttrain serve --label DB`,
// no model) attacked over real HTTP on loopback: pages and forms without a session
// (303 to the login page / 401), forged and expired cookies; the cookie's attributes and
// the security headers; CSRF (no token, a wrong one, another session's, a foreign
// Origin — nothing stored); IDOR (another labeler's pending message and draft: 404 to
// read, 4xx to reply/edit/review/rank/draft/save, text unchanged), roles (admin page,
// user and project creation, export and stats are not a labeler's; no self-review);
// XSS, SQL and special-token text (escaped on every page, byte-exact back through the
// escaped HTML, `label show`, `label export` and the web export); a user name and a
// project name with markup, guidelines with raw HTML and a javascript: link; bad form
// bodies (invalid UTF-8, bad %-escapes, NUL, too many fields, over --max-body, a text
// over 64 KiB shown back, wrong Content-Type, unknown routes and methods); logout; the
// login rate limit. Drafts come from a fake OpenAI-compatible API served here
// (--draft-api-base), so no model is needed. The database is set up and read back with
// the `posttrain label` CLI.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { POSTTRAIN, startServer } from "./serve_helpers.mjs";

const skip = existsSync(POSTTRAIN) ? false : `${POSTTRAIN} missing: run make`;
if (skip) console.log(`skip: ${skip}`);

const MAX_BODY = 131072;  // --max-body: above LABEL_TEXT_MAX (65536) so that a too-long text reaches the app
const PW = { admin: "admin-pass-123", reviewer: "reviewer-pass-123", alice: "alice-pass-123", bob: "bob-pass-123" };
const ROLE = { admin: "admin", reviewer: "reviewer", alice: "labeler", bob: "labeler" };
const DRAFT_TEXT = "A fake model's <draft> & reply";

let tmp, DB, srv, fake, fakeHits = 0;
const S = {};  // name -> { cookie, csrf }

// ------------------------------------------------------------------ helpers

function cli(args, input) {
  return spawnSync(POSTTRAIN, ["label", ...args], { encoding: "utf8", input, timeout: 30000 });
}
function cliOk(args, input) {
  const r = cli(args, input);
  assert.equal(r.status, 0, `posttrain label ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}
// The message as `label show --json` has it (the last element of its path), with its replies.
function show(id) {
  const j = JSON.parse(cliOk(["show", DB, String(id), "--json"]));
  return { ...j.path[j.path.length - 1], replies: j.replies };
}
// Every message row of `label list` (all states): [{id, text-preview line}].
function listRows() {
  const lines = cliOk(["list", DB, "--project", "P"]).split("\n").filter((l) => /^\s*\d+\s/.test(l));
  return lines;
}
function userExists(name) {
  return cli(["list", DB, "--project", "P", "--as", name]).status === 0;
}

const form = (fields) => new URLSearchParams(fields).toString();
const FORM_TYPE = "application/x-www-form-urlencoded";

// One request with fetch (no redirects followed). -> { status, headers, text, location }.
async function req(method, path, { cookie, body, type, headers = {} } = {}) {
  const h = { ...headers };
  if (cookie) h.Cookie = `pt_label=${cookie}`;
  if (body !== undefined) h["Content-Type"] = type ?? FORM_TYPE;
  const r = await fetch(`${srv.url}${path}`, { method, headers: h, body, redirect: "manual" });
  const text = await r.text();
  return { status: r.status, headers: r.headers, text, location: r.headers.get("location") };
}
const get = (path, who, opts = {}) => req("GET", path, { cookie: who && S[who].cookie, ...opts });
// A form POST as who (a name in S, or null), with who's CSRF token unless fields has one.
function post(path, who, fields = {}, opts = {}) {
  const f = who && !("csrf" in fields) ? { csrf: S[who].csrf, ...fields } : fields;
  for (const k of Object.keys(f)) if (f[k] === undefined) delete f[k];
  return req("POST", path, { cookie: who && S[who].cookie, body: form(f), ...opts });
}

// A request with node:http from a chosen local address (the login limit is per address).
function rawRequest({ method = "GET", path, headers = {}, body, localAddress }) {
  return new Promise((res, rej) => {
    const r = http.request({ host: "127.0.0.1", port: srv.port, method, path, headers, localAddress, agent: false },
      (resp) => {
        let data = "";
        resp.setEncoding("utf8");
        resp.on("data", (d) => (data += d));
        resp.on("end", () => res({ status: resp.statusCode, headers: resp.headers, text: data }));
      });
    r.on("error", rej);
    if (body) r.write(body);
    r.end();
  });
}

function setCookies(r) {
  return r.headers.getSetCookie ? r.headers.getSetCookie() : [r.headers.get("set-cookie")].filter(Boolean);
}
async function login(name, password = PW[name]) {
  const r = await req("POST", "/label/login", { body: form({ name, password }) });
  assert.equal(r.status, 303, `login ${name}: ${r.status} ${r.text.slice(0, 300)}`);
  assert.equal(r.location, "/label/");
  const c = setCookies(r).find((s) => s.startsWith("pt_label="));
  assert.ok(c, `login ${name}: no pt_label cookie`);
  const cookie = /^pt_label=([^;]*)/.exec(c)[1];
  return { cookie, setCookie: c };
}
function csrfIn(html) {
  const m = /<input type="hidden" name="csrf" value="([^"]*)">/.exec(html);
  assert.ok(m, "no csrf field on the page");
  return m[1];
}
async function session(name) {
  const { cookie, setCookie } = await login(name);
  const home = await req("GET", "/label/", { cookie });
  assert.equal(home.status, 200);
  return { cookie, setCookie, csrf: csrfIn(home.text) };
}

const idFrom = (location, kind = "message") => {
  const m = new RegExp(`^/label/${kind}/(\\d+)$`).exec(location ?? "");
  assert.ok(m, `redirect to a ${kind}: ${location}`);
  return Number(m[1]);
};

// HTML text as html_escape writes it, back to the string; refuses anything unescaped.
// The pages open every <pre> and <textarea> with a newline, which HTML's parser drops
// (so that a text starting with a newline keeps it): drop it here too.
const ENT = { "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'", "&amp;": "&" };
function unescapeHtml(s) {
  assert.ok(s.startsWith("\n"), "the newline after the opening tag");
  s = s.slice(1);
  assert.doesNotMatch(s, /[<>"']/, "raw markup characters in escaped text");
  assert.doesNotMatch(s, /&(?!lt;|gt;|quot;|#39;|amp;)/, "a bare & in escaped text");
  return s.replace(/&(lt|gt|quot|#39|amp);/g, (m) => ENT[m]);
}
// The escaped text of message id's card on a page.
function cardText(html, id) {
  const m = new RegExp(`<article class="msg[^"]*" id="m${id}">[\\s\\S]*?<pre class="text">([^<]*)</pre>`).exec(html);
  assert.ok(m, `no card for message ${id}`);
  return unescapeHtml(m[1]);
}

function sqlite(sql) {  // the sqlite3 shell, if there is one: -> stdout, or null
  const r = spawnSync("sqlite3", ["-cmd", ".timeout 5000", DB, sql], { encoding: "utf8" });
  if (r.error || r.status !== 0) return null;
  return r.stdout.trim();
}

// ------------------------------------------------------------------ setup

before(async () => {
  if (skip) return;
  tmp = mkdtempSync(join(tmpdir(), "pt-label-sec-"));
  DB = join(tmp, "label.db");
  cliOk(["init", DB, "--project", "P"]);
  for (const n of Object.keys(PW))
    cliOk(["user", "add", DB, "--name", n, "--role", ROLE[n], "--password-stdin"], `${PW[n]}\n`);
  // A fake OpenAI-compatible API for drafts: always the same reply.
  fake = http.createServer((rq, rs) => {
    let b = "";
    rq.on("data", (d) => (b += d));
    rq.on("end", () => {
      fakeHits++;
      rs.writeHead(200, { "Content-Type": "application/json" });
      rs.end(JSON.stringify({ id: "x", object: "chat.completion", model: "fake",
                              choices: [{ index: 0, finish_reason: "stop",
                                          message: { role: "assistant", content: DRAFT_TEXT } }] }));
    });
  });
  await new Promise((res) => fake.listen(0, "127.0.0.1", res));
  srv = await startServer(null, ["--label", DB, "--quiet", "--max-body", String(MAX_BODY),
                                 "--draft-api-base", `http://127.0.0.1:${fake.address().port}/v1`,
                                 "--draft-model", "fake-drafter"]);
});

after(async () => {
  if (fake) fake.close();
  if (srv) {
    const exit = await srv.stop("SIGTERM");
    assert.equal(exit.code, 0, `server exit ${JSON.stringify(exit)}\n${srv.log()}`);
    assert.doesNotMatch(srv.log(), /AddressSanitizer|LeakSanitizer|runtime error/, srv.log());
  }
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

// ------------------------------------------------------------------ 1. no session

const PAGES = ["/label/", "/label/project/1", "/label/message/1", "/label/draft/1", "/label/admin",
               "/label/project/1/export/openai", "/label/project/1/stats"];
const FORMS = ["/label/logout", "/label/project/1/prompt", "/label/message/1/reply", "/label/message/1/edit",
               "/label/message/1/review", "/label/message/1/rank", "/label/message/1/draft", "/label/draft/1",
               "/label/admin/project", "/label/admin/user"];
const FORM_BODY = { csrf: "0".repeat(64), text: "unauth", category: "chat", decision: "accept", rank_1: "1",
                    name: "intruder", role: "admin", password: "intruder-pass", guidelines: "g" };

async function assertLoggedOut(cookie, what) {
  for (const p of PAGES) {
    const r = await req("GET", p, { cookie });
    assert.equal(r.status, 303, `${what}: GET ${p} -> ${r.status}`);
    assert.equal(r.location, "/label/login", `${what}: GET ${p}`);
    assert.doesNotMatch(r.text, /csrf/);
  }
  for (const p of FORMS) {
    const r = await req("POST", p, { cookie, body: form(FORM_BODY) });
    assert.equal(r.status, 401, `${what}: POST ${p} -> ${r.status}`);
    assert.match(r.text, /name="password"/, `${what}: POST ${p} shows the login form`);
  }
}

test("no session: pages redirect to the login page, forms get 401, forged and expired cookies count as none",
     { skip }, async () => {
  await assertLoggedOut(undefined, "no cookie");
  const lp = await req("GET", "/label/login");
  assert.equal(lp.status, 200);
  assert.match(lp.text, /<form method="post" action="\/label\/login">/);
  assert.match(lp.headers.get("content-type"), /^text\/html/);
  assert.equal((await req("GET", "/label")).location, "/label/");
  // Forged: a well-formed random token, a short one, one with SQL in it.
  await assertLoggedOut(randomBytes(32).toString("hex"), "forged cookie");
  await assertLoggedOut("abc", "short cookie");
  await assertLoggedOut("' OR 1=1 --", "SQL cookie");
  // Nothing was stored by the refused forms.
  assert.equal(listRows().length, 0);
  assert.equal(userExists("intruder"), false);
  assert.match(cliOk(["stats", DB]), /^prompts\s+0/m);

  // Log everyone in (before the login-limit test, which blocks this address).
  for (const n of Object.keys(PW)) S[n] = await session(n);
  // Expired: a live session whose row is moved into the past (needs the sqlite3 shell).
  const { cookie } = await login("bob");
  assert.equal((await req("GET", "/label/", { cookie })).status, 200);
  const hash = createHash("sha256").update(cookie).digest("hex").toUpperCase();
  const changed = sqlite(`UPDATE sessions SET expires = 1 WHERE hex(token_hash) = '${hash}'; SELECT changes();`);
  if (changed === null) console.log("note: no sqlite3 shell: the expired-cookie check is skipped");
  else {
    assert.equal(changed, "1", "the session row to expire");
    await assertLoggedOut(cookie, "expired cookie");
  }
});

// ------------------------------------------------------------------ 2. cookie and headers

function assertSecurityHeaders(r, what) {
  const csp = r.headers.get("content-security-policy");
  assert.ok(csp, `${what}: no Content-Security-Policy`);
  const dir = Object.fromEntries(csp.split(";").map((d) => d.trim().split(/\s+/)).filter((d) => d[0])
                                   .map(([k, ...v]) => [k.toLowerCase(), v]));
  const scripts = dir["script-src"] ?? dir["default-src"];
  assert.ok(scripts, `${what}: CSP without script-src or default-src: ${csp}`);
  assert.ok(!scripts.includes("'unsafe-inline'") && !scripts.includes("'unsafe-eval'") && !scripts.includes("*"),
            `${what}: CSP lets scripts in: ${csp}`);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, `${what}: ${csp}`);
  assert.deepEqual(dir["frame-ancestors"], ["'none'"], `${what}: ${csp}`);
  assert.equal(r.headers.get("x-frame-options"), "DENY", what);
  assert.equal(r.headers.get("x-content-type-options"), "nosniff", what);
  assert.match(r.headers.get("cache-control") ?? "", /no-store/, what);
}

test("session cookie attributes and security headers", { skip }, async () => {
  for (const n of Object.keys(S)) {
    const c = S[n].setCookie;
    assert.match(S[n].cookie, /^[0-9a-f]{64}$/, `${n}: token`);
    const attrs = c.split(";").slice(1).map((a) => a.trim().toLowerCase());
    assert.ok(attrs.includes("httponly"), c);
    assert.ok(attrs.includes("samesite=strict"), c);
    assert.ok(attrs.includes("path=/label/"), c);
    const age = attrs.find((a) => a.startsWith("max-age="));
    assert.ok(age && Number(age.slice(8)) > 0 && Number(age.slice(8)) <= 7 * 24 * 3600, c);
    assert.ok(!attrs.some((a) => a.startsWith("domain=")), c);
  }
  // Every session differs; so does every CSRF token, and neither is the other.
  const toks = Object.values(S).flatMap((s) => [s.cookie, s.csrf]);
  assert.equal(new Set(toks).size, toks.length);
  const pages = [["GET", "/label/login", null], ["GET", "/label/", "alice"], ["GET", "/label/project/1", "alice"],
                 ["GET", "/label/admin", "admin"], ["GET", "/label/admin", "alice"], ["GET", "/label/nope", "alice"],
                 ["GET", "/label/project/1/export/openai", "admin"], ["GET", "/label/", null],
                 ["POST", "/label/project/1/prompt", null]];  // (a failed login's page: the login-limit test)
  for (const [m, p, who] of pages) {
    const r = m === "GET" ? await get(p, who) : await req("POST", p, { body: form({ text: "x" }) });
    assertSecurityHeaders(r, `${m} ${p} as ${who}`);
    assert.doesNotMatch(r.text, /<script/i, `${m} ${p}: a script on the page`);
  }
});

// ------------------------------------------------------------------ 3. CSRF

test("CSRF: no token, a wrong one or another session's, a foreign Origin: 403 and nothing stored", { skip },
     async () => {
  const path = "/label/project/1/prompt";
  const before = listRows().length;
  const tries = [
    ["no csrf field", { csrf: undefined }],
    ["empty csrf", { csrf: "" }],
    ["zeros", { csrf: "0".repeat(64) }],
    ["a prefix", { csrf: S.alice.csrf.slice(0, 63) }],
    ["too long", { csrf: S.alice.csrf + "0" }],
    ["upper case", { csrf: S.alice.csrf.toUpperCase() }],
    ["bob's token", { csrf: S.bob.csrf }],
    ["the cookie", { csrf: S.alice.cookie }],
  ];
  for (const [what, f] of tries) {
    const fields = { category: "chat", text: `csrf probe: ${what}`, ...f };
    if (f.csrf === undefined) delete fields.csrf;
    const r = await req("POST", path, { cookie: S.alice.cookie, body: form(fields) });
    assert.equal(r.status, 403, `${what}: ${r.status}`);
    assert.ok(r.text.includes(`csrf probe: ${what}`.replace(/'/g, "&#39;")), `${what}: the text is shown back`);
  }
  // The right token from another site's page.
  for (const origin of ["http://evil.example", "null", `http://127.0.0.1:${srv.port}.evil.example`]) {
    const r = await post(path, "alice", { category: "chat", text: `csrf probe: origin ${origin}` },
                         { headers: { Origin: origin } });
    assert.equal(r.status, 403, `Origin ${origin}: ${r.status}`);
  }
  // Logging in from another site's page (login CSRF) is refused too, without counting as a failure.
  const lr = await req("POST", "/label/login", { body: form({ name: "alice", password: PW.alice }),
                                                 headers: { Origin: "http://evil.example" } });
  assert.equal(lr.status, 403);
  assert.equal(setCookies(lr).length, 0);
  // A GET never changes anything: there is no GET logout.
  assert.equal((await get("/label/logout", "alice")).status, 404);
  assert.equal((await get("/label/", "alice")).status, 200);
  // Nothing of the above was stored.
  assert.equal(listRows().length, before);
  assert.doesNotMatch(cliOk(["list", DB, "--project", "P"]), /csrf probe/);

  // The right token: without Origin (a non-browser client), and with this server's Origin.
  let r = await post(path, "alice", { category: "chat", text: "csrf ok, no origin" });
  assert.equal(r.status, 303, r.text.slice(0, 400));
  assert.equal(show(idFrom(r.location)).text, "csrf ok, no origin");
  r = await post(path, "alice", { category: "chat", text: "csrf ok, same origin" }, { headers: { Origin: srv.url } });
  assert.equal(r.status, 303, r.text.slice(0, 400));
  assert.equal(show(idFrom(r.location)).text, "csrf ok, same origin");
  assert.equal(listRows().length, before + 2);
});

// ------------------------------------------------------------------ 4. IDOR and roles

test("IDOR: another labeler's pending message and draft; roles for admin, export, stats, review", { skip },
     async () => {
  const secret = "alice's secret prompt 7f3a";
  let r = await post("/label/project/1/prompt", "alice", { category: "open_qa", text: secret });
  assert.equal(r.status, 303);
  const A = idFrom(r.location);
  assert.equal(show(A).state, "pending");
  assert.equal((await get(`/label/message/${A}`, "alice")).status, 200);

  // bob cannot see it anywhere...
  r = await get(`/label/message/${A}`, "bob");
  assert.equal(r.status, 404);
  assert.ok(!r.text.includes(secret));
  for (const p of ["/label/project/1", "/label/"]) {
    r = await get(p, "bob");
    assert.equal(r.status, 200);
    assert.ok(!r.text.includes(secret), `${p} shows alice's pending prompt to bob`);
    assert.ok(!r.text.includes(`/label/message/${A}"`), `${p} links alice's pending prompt for bob`);
  }
  // ...nor act on it.
  const acts = [["reply", { text: "bob's reply" }], ["edit", { text: "bob was here" }],
                ["review", { decision: "accept" }], ["review", { decision: "reject", reason: "bob" }],
                ["rank", { [`rank_${A}`]: "1", [`rank_${A + 1}`]: "2" }], ["draft", {}],
                ["draft", { assignee: "bob" }]];
  const hits = fakeHits;
  for (const [act, f] of acts) {
    r = await post(`/label/message/${A}/${act}`, "bob", f);
    assert.ok(r.status >= 400 && r.status < 500, `bob ${act} ${JSON.stringify(f)}: ${r.status}`);
  }
  assert.equal(fakeHits, hits, "the model was asked for a draft of a message bob cannot read");
  let m = show(A);
  assert.equal(m.text, secret);
  assert.equal(m.state, "pending");
  assert.equal(m.replies.length, 0);

  // A draft for alice (from the fake API): hers alone.
  r = await post(`/label/message/${A}/draft`, "alice");
  assert.equal(r.status, 303, r.text.slice(0, 400));
  const D = idFrom(r.location, "draft");
  r = await get(`/label/draft/${D}`, "alice");
  assert.equal(r.status, 200);
  assert.ok(r.text.includes("A fake model&#39;s &lt;draft&gt; &amp; reply"));
  assert.ok(!r.text.includes(DRAFT_TEXT));
  r = await get(`/label/draft/${D}`, "bob");
  assert.equal(r.status, 404);
  assert.ok(!r.text.includes("fake model"));
  r = await post(`/label/draft/${D}`, "bob", { text: "bob saves alice's draft" });
  assert.ok(r.status >= 400 && r.status < 500, `bob saves alice's draft: ${r.status}`);
  // A labeler cannot hand a draft to someone else.
  r = await post(`/label/message/${A}/draft`, "alice", { assignee: "bob" });
  assert.ok(r.status >= 400 && r.status < 500, `alice drafts for bob: ${r.status}`);
  r = await get("/label/", "bob");
  assert.doesNotMatch(r.text, /\/label\/draft\//, "bob got a draft");
  assert.equal(show(A).replies.length, 0);

  // The admin page and forms are an admin's.
  r = await get("/label/admin", "alice");
  assert.equal(r.status, 403);
  assert.doesNotMatch(r.text, /action="\/label\/admin\/user"/);
  r = await get("/label/admin", "reviewer");
  assert.equal(r.status, 403);
  for (const who of ["alice", "reviewer"]) {
    r = await post("/label/admin/user", who, { name: `mallory-${who}`, role: "admin", password: "mallory-pass-1" });
    assert.ok(r.status >= 400 && r.status < 500, `${who} adds a user: ${r.status}`);
    assert.equal(userExists(`mallory-${who}`), false);
    r = await post("/label/admin/project", who, { name: `proj-${who}`, guidelines: "x" });
    assert.ok(r.status >= 400 && r.status < 500, `${who} adds a project: ${r.status}`);
    assert.equal(cli(["list", DB, "--project", `proj-${who}`]).status === 0, false);
  }
  // Export and stats are for reviewers and admins.
  for (const p of ["export/openai", "export/oasst", "export/rankings", "stats"]) {
    r = await get(`/label/project/1/${p}`, "alice");
    assert.ok(r.status >= 400 && r.status < 500, `alice GET ${p}: ${r.status}`);
    assert.ok(!r.text.includes(secret));
    r = await get(`/label/project/1/${p}`, "reviewer");
    assert.equal(r.status, 200, `reviewer GET ${p}`);
  }
  assert.doesNotMatch((await get("/label/project/1", "alice")).text, /export\/openai/);

  // No self-review; the reviewer sees the message and accepts it.
  r = await post(`/label/message/${A}/review`, "alice", { decision: "accept" });
  assert.ok(r.status >= 400 && r.status < 500, `alice reviews her own: ${r.status}`);
  assert.doesNotMatch((await get(`/label/message/${A}`, "alice")).text, /\/review"/);
  assert.equal(show(A).state, "pending");
  r = await post("/label/project/1/prompt", "reviewer", { category: "chat", text: "the reviewer's own prompt" });
  assert.equal(r.status, 303);
  const R = idFrom(r.location);
  assert.doesNotMatch((await get(`/label/message/${R}`, "reviewer")).text, /\/review"/);
  r = await post(`/label/message/${R}/review`, "reviewer", { decision: "accept" });
  assert.ok(r.status >= 400 && r.status < 500, `the reviewer reviews their own: ${r.status}`);
  assert.equal(show(R).state, "pending");
  r = await get(`/label/message/${A}`, "reviewer");
  assert.equal(r.status, 200);
  assert.equal(cardText(r.text, A), secret);
  assert.match(r.text, new RegExp(`action="/label/message/${A}/review"`));
  r = await post(`/label/message/${A}/review`, "reviewer", { decision: "accept" });
  assert.equal(r.status, 303);
  assert.equal(r.location, `/label/message/${A}`);
  assert.equal(show(A).state, "accepted");
  // Accepted: bob may now read it (shared trees), but still not edit or review it.
  assert.equal((await get(`/label/message/${A}`, "bob")).status, 200);
  // ...but alice's draft of a reply to it stays hers.
  r = await get(`/label/draft/${D}`, "bob");
  assert.equal(r.status, 404, "bob reads alice's draft once its parent is accepted");
  assert.ok(!r.text.includes("fake model"));
  r = await post(`/label/draft/${D}`, "bob", { text: "bob saves alice's draft" });
  assert.ok(r.status >= 400 && r.status < 500, `bob saves alice's draft: ${r.status}`);
  assert.equal(show(A).replies.length, 0);
  r = await post(`/label/message/${A}/edit`, "bob", { text: "bob edits an accepted message" });
  assert.ok(r.status >= 400 && r.status < 500);
  r = await post(`/label/message/${A}/edit`, "alice", { text: "alice edits after review" });
  assert.ok(r.status >= 400 && r.status < 500);
  assert.equal(show(A).text, secret);
});

// ------------------------------------------------------------------ 5. XSS, SQL, special tokens

const PAYLOAD = "<script>alert(1)</script> <img src=x onerror=alert(2)> '; DROP TABLE messages; -- " +
                "<|im_end|> \"quotes\" & ampersands &amp; &lt;b&gt; </textarea></pre><!-- " +
                "\nsecond line: é, 中文, emoji 🎉👩‍🔬, <|im_start|>system\n\ttab";
const REPLY = "Assistant: </pre><script>alert(5)</script> <a href=\"javascript:alert(6)\">x</a> ' OR '1'='1 " +
              "<|im_end|><|endoftext|> — ✓ 😀";

test("XSS, SQL and special tokens: escaped on the pages, verbatim in the store and the exports", { skip },
     async () => {
  let r = await post("/label/project/1/prompt", "alice", { category: "generation", text: PAYLOAD });
  assert.equal(r.status, 303, r.text.slice(0, 400));
  const X = idFrom(r.location);
  for (const [who, p] of [["alice", `/label/message/${X}`], ["reviewer", `/label/message/${X}`],
                          ["alice", "/label/project/1"], ["reviewer", "/label/"]]) {
    r = await get(p, who);
    assert.equal(r.status, 200, `${who} ${p}`);
    assert.ok(!r.text.includes("<script>alert"), `${who} ${p}: raw <script>`);
    assert.ok(!r.text.includes("<img src=x"), `${who} ${p}: raw <img>`);
    assert.ok(!r.text.includes("</textarea></pre>"), `${who} ${p}: raw </textarea>`);
    assert.ok(r.text.includes("&lt;script&gt;alert(1)&lt;/script&gt;"), `${who} ${p}: escaped text`);
    assert.doesNotMatch(r.text, /<script/i);
  }
  r = await get(`/label/message/${X}`, "alice");
  assert.equal(cardText(r.text, X), PAYLOAD);
  // The edit form (alice's own pending message) holds the text too, escaped.
  const ta = /<form method="post" action="\/label\/message\/\d+\/edit">[\s\S]*?<textarea[^>]*>([^<]*)<\/textarea>/
    .exec(r.text);
  assert.ok(ta, "no edit form");
  assert.equal(unescapeHtml(ta[1]), PAYLOAD);
  // The store has it byte for byte, and the tables are all there.
  assert.equal(show(X).text, PAYLOAD);
  assert.match(cliOk(["stats", DB, "--project", "P"]), /^prompts\s+\d+/m);
  assert.ok(listRows().length >= 4);

  // Reviewed, answered (the reply also hostile), reviewed again: the exports give both back exactly.
  assert.equal((await post(`/label/message/${X}/review`, "reviewer", { decision: "accept" })).status, 303);
  r = await post(`/label/message/${X}/reply`, "bob", { text: REPLY });
  assert.equal(r.status, 303, r.text.slice(0, 400));
  const Y = idFrom(r.location);
  assert.equal((await post(`/label/message/${Y}/review`, "reviewer", { decision: "accept" })).status, 303);
  r = await get(`/label/message/${X}`, "reviewer");
  assert.equal(cardText(r.text, Y), REPLY);
  assert.ok(!r.text.includes('href="javascript:'));
  const want = [{ role: "user", content: PAYLOAD }, { role: "assistant", content: REPLY }];
  const find = (jsonl) => jsonl.split("\n").filter(Boolean).map((l) => JSON.parse(l))
    .find((c) => c.messages?.[0]?.content === PAYLOAD);
  const cliConv = find(cliOk(["export", DB, "--project", "P", "--format", "openai"]));
  assert.ok(cliConv, "the CLI export has the conversation");
  assert.deepEqual(cliConv.messages, want);
  r = await get("/label/project/1/export/openai", "reviewer");
  assert.equal(r.status, 200);
  assert.match(r.headers.get("content-type"), /^application\/jsonl/);
  assert.match(r.headers.get("content-disposition") ?? "", /^attachment/);
  assert.equal(r.headers.get("x-content-type-options"), "nosniff");
  const webConv = find(r.text);
  assert.ok(webConv, "the web export has the conversation");
  assert.deepEqual(webConv.messages, want);
  r = await get("/label/project/1/export/oasst", "admin");
  assert.equal(r.status, 200);
  const tree = r.text.split("\n").filter(Boolean).map((l) => JSON.parse(l)).find((t) => t.prompt?.text === PAYLOAD);
  assert.ok(tree, "the oasst export has the tree");
  assert.equal(tree.prompt.replies[0].text, REPLY);

  // A user name with markup, added by the admin through the form: escaped on the admin page.
  const evil = "<b>eve</b>&amp;\"'";
  r = await post("/label/admin/user", "admin", { name: evil, role: "labeler", password: "eve-pass-123" });
  assert.equal(r.status, 303, r.text.slice(0, 400));
  assert.equal(r.location, "/label/admin");
  assert.ok(userExists(evil));
  r = await get("/label/admin", "admin");
  assert.equal(r.status, 200);
  assert.ok(!r.text.includes("<b>eve</b>"), "raw user name on the admin page");
  assert.ok(r.text.includes("<td>&lt;b&gt;eve&lt;/b&gt;&amp;amp;&quot;&#39;</td>"), "escaped user name");
  // A project name with markup, guidelines with raw HTML and a javascript: link.
  r = await post("/label/admin/project", "admin", {
    name: "<i>proj</i><script>alert(7)</script>",
    guidelines: "# Rules\n\n<script>alert(8)</script>\n\n<img src=x onerror=alert(9)>\n\n[click](javascript:alert(10))\n",
  });
  assert.equal(r.status, 303, r.text.slice(0, 400));
  const Pj = idFrom(r.location, "project");
  for (const [who, p] of [["admin", `/label/project/${Pj}`], ["alice", `/label/project/${Pj}`], ["alice", "/label/"],
                          ["admin", "/label/admin"]]) {
    r = await get(p, who);
    assert.equal(r.status, 200, `${who} ${p}`);
    assert.doesNotMatch(r.text, /<script|<img|<i>proj|href="javascript:/i, `${who} ${p}`);
    assert.ok(r.text.includes("&lt;i&gt;proj&lt;/i&gt;&lt;script&gt;alert(7)&lt;/script&gt;"), `${who} ${p}`);
  }
  // Later requests still work: the tables are intact.
  assert.equal((await get("/label/", "bob")).status, 200);
  assert.equal(show(X).text, PAYLOAD);
});

// ------------------------------------------------------------------ 6. bad input

test("bad input: invalid UTF-8, bad escapes, NUL, too many fields, too large, a text too long, wrong type",
     { skip }, async () => {
  const path = "/label/project/1/prompt";
  const before = listRows().length;
  const raw = (body, opts = {}) => req("POST", path, { cookie: S.alice.cookie, body, ...opts });
  const c = `csrf=${S.alice.csrf}`;
  let r = await raw(`${c}&category=chat&text=%FF`);
  assert.equal(r.status, 400);
  assert.match(r.text, /form: field text: invalid UTF-8/);
  r = await raw(`${c}&category=chat&te%C3xt=hello`);
  assert.equal(r.status, 400);
  assert.match(r.text, /form: the name of field 3: invalid UTF-8/);
  r = await raw(`${c}&category=chat&text=%ED%A0%80`);  // a UTF-16 surrogate, encoded
  assert.equal(r.status, 400);
  assert.match(r.text, /invalid UTF-8/);
  for (const bad of ["%G1", "%4", "%", "abc%zz"]) {
    r = await raw(`${c}&category=chat&text=${bad}`);
    assert.equal(r.status, 400, bad);
    assert.match(r.text, /form: field text: bad %-escape/, bad);
  }
  r = await raw(`${c}&category=chat&text=a%00b`);
  assert.equal(r.status, 400);
  assert.match(r.text, /NUL byte/);
  r = await raw(`${c}&category=chat&text=x${"&f=1".repeat(5000)}`);
  assert.equal(r.status, 400);
  assert.match(r.text, /more than 4096 fields/);
  // Over --max-body: 413 (the body is read and dropped).
  r = await raw(`${c}&category=chat&text=${"y".repeat(200 * 1024)}`);
  assert.equal(r.status, 413);
  // Over the text limit but under --max-body: 400, and the page gives the text back.
  const long = "KEEP <&> 'this' " + "z".repeat(70000);
  r = await post(path, "alice", { category: "chat", text: long });
  assert.equal(r.status, 400);
  assert.match(r.text, /65536|64 ?Ki?B|too long/i);
  const kept = /<textarea readonly rows="8" class="kept">([^<]*)<\/textarea>/.exec(r.text);
  assert.ok(kept, "the text is not shown back");
  assert.equal(unescapeHtml(kept[1]), long);
  // Empty text, unknown category: 400 with a reason.
  r = await post(path, "alice", { category: "chat", text: "" });
  assert.equal(r.status, 400);
  r = await post(path, "alice", { category: "<script>", text: "category probe" });
  assert.equal(r.status, 400);
  assert.ok(r.text.includes("category probe"));
  assert.doesNotMatch(r.text, /<script/);
  // Wrong or missing Content-Type: 415.
  for (const type of ["application/json", "multipart/form-data; boundary=x", "text/plain"]) {
    r = await raw(JSON.stringify({ csrf: S.alice.csrf, category: "chat", text: "json" }), { type });
    assert.equal(r.status, 415, type);
  }
  r = await fetch(`${srv.url}${path}`, { method: "POST", redirect: "manual",
                                          headers: { Cookie: `pt_label=${S.alice.cookie}` },
                                          body: new Uint8Array(Buffer.from(`${c}&category=chat&text=notype`)) });
  assert.equal(r.status, 415);
  // The content type is matched as a whole token, with or without a charset.
  r = await raw(`${c}&category=chat&text=typed`, { type: "application/x-www-form-urlencoded; charset=UTF-8" });
  assert.equal(r.status, 303);
  // Unknown routes and ids, other methods.
  for (const p of ["/label/nope", "/label/message/abc", "/label/message/0", "/label/message/-1",
                   "/label/message/99999999999999999999", "/label/message/1/x", "/label/project/1/export/csv",
                   "/label/project/999", "/label/draft/999", "/label/message/999"]) {
    r = await get(p, "alice");
    assert.equal(r.status, 404, `GET ${p}`);
  }
  for (const p of ["/label/nope", "/label/message/1/delete", "/label/project/1/delete", "/label/admin/x"]) {
    r = await post(p, "admin", { text: "x" });
    assert.equal(r.status, 404, `POST ${p}`);
  }
  for (const m of ["PUT", "DELETE", "PATCH"]) {
    r = await req(m, "/label/", { cookie: S.alice.cookie });
    assert.equal(r.status, 405, m);
  }
  // One valid prompt (the typed one) was stored, nothing else.
  assert.equal(listRows().length, before + 1);
});

// ------------------------------------------------------------------ 7. logout

test("logout: needs the CSRF token, clears the cookie, ends the session", { skip }, async () => {
  let r = await post("/label/logout", "bob", { csrf: "" });
  assert.equal(r.status, 403);
  r = await req("POST", "/label/logout", { cookie: S.bob.cookie, body: form({ csrf: S.bob.csrf }),
                                           headers: { Origin: "http://evil.example" } });
  assert.equal(r.status, 403);
  assert.equal((await get("/label/", "bob")).status, 200, "the refused logouts ended the session");
  r = await post("/label/logout", "bob");
  assert.equal(r.status, 303);
  assert.equal(r.location, "/label/login");
  const c = setCookies(r).find((s) => s.startsWith("pt_label="));
  assert.ok(c, "no cookie cleared");
  assert.match(c, /^pt_label=;/);
  assert.match(c, /Max-Age=0/i);
  assert.match(c, /Path=\/label\//);
  await assertLoggedOut(S.bob.cookie, "after logout");
  // Others' sessions live on.
  assert.equal((await get("/label/", "alice")).status, 200);
});

// ------------------------------------------------------------------ 8. login limit (last: it blocks this address)

test("login limit: 10 wrong passwords, then 429 with Retry-After even with the right one", { skip }, async () => {
  for (let i = 0; i < 10; i++) {
    const r = await req("POST", "/label/login", { body: form({ name: "alice", password: `wrong-${i}-password` }) });
    assert.equal(r.status, 401, `wrong password ${i + 1}`);
    assert.equal(setCookies(r).length, 0);
    assert.match(r.text, /Wrong user name or password/);
    if (i === 0) assertSecurityHeaders(r, "a failed login");
  }
  const r = await req("POST", "/label/login", { body: form({ name: "alice", password: PW.alice }) });
  assert.equal(r.status, 429);
  assert.equal(setCookies(r).length, 0, "a session opened while limited");
  assertSecurityHeaders(r, "a limited login");
  const ra = Number(r.headers.get("retry-after"));
  assert.ok(Number.isInteger(ra) && ra > 0 && ra <= 15 * 60, `Retry-After ${r.headers.get("retry-after")}`);
  // Sessions opened before stay valid.
  assert.equal((await get("/label/", "alice")).status, 200);
  // The limit is also per address: from another loopback address, another user logs in,
  // and alice is still refused (the per-name limit).
  const other = (name) => rawRequest({ method: "POST", path: "/label/login", localAddress: "127.0.0.2",
                                       headers: { "Content-Type": FORM_TYPE },
                                       body: form({ name, password: PW[name] }) });
  let o;
  try {
    o = await other("reviewer");
  } catch (err) {
    console.log(`note: cannot send from 127.0.0.2 (${err.code}): the other-user check is skipped`);
    return;
  }
  assert.equal(o.status, 303, o.text.slice(0, 300));
  assert.match(String(o.headers["set-cookie"]), /^pt_label=[0-9a-f]{64};/);
  o = await other("alice");
  assert.equal(o.status, 429);
  assert.ok(Number(o.headers["retry-after"]) > 0);
});
