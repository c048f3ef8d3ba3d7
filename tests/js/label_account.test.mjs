// label_account.test.mjs: passwords in the labeling app — a user changes their own (the
// current one is checked, against the login limit), an admin sets another's; either way
// the user's sessions end and only the new password logs in.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { POSTTRAIN, ROOT, startServer } from "./serve_helpers.mjs";

const skip = existsSync(POSTTRAIN) ? false : `${POSTTRAIN} missing: run make`;
if (skip) console.log(`skip: ${skip}`);

function cli(args, input) {
  const r = spawnSync(POSTTRAIN, args, { cwd: ROOT, encoding: "utf8", input });
  assert.equal(r.status, 0, `posttrain ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

test("passwords: change one's own, an admin sets another's; sessions end", { skip, timeout: 60000 }, async () => {
  const tmp = mkdtempSync(join(tmpdir(), "pt-label-account-"));
  const db = join(tmp, "label.sqlite");
  cli(["label", "init", db]);
  cli(["label", "user", "add", db, "--name", "root", "--role", "admin", "--password-stdin"], "root-pass-1\n");
  cli(["label", "user", "add", db, "--name", "ann", "--role", "labeler", "--password-stdin"], "ann-pass-1\n");
  const srv = await startServer(null, ["--label", db, "--quiet"]);
  const login = async (name, password) => {
    const r = await fetch(`${srv.url}/label/login`, {
      method: "POST", redirect: "manual", body: new URLSearchParams({ name, password }),
    });
    if (r.status !== 303) return { status: r.status };
    const cookie = r.headers.get("set-cookie").split(";")[0];
    const page = await (await fetch(`${srv.url}/label/account`, { headers: { cookie } })).text();
    const csrf = /name="csrf" value="([0-9a-f]+)"/.exec(page)[1];
    const post = (path, fields) => fetch(`${srv.url}${path}`, {
      method: "POST", redirect: "manual", headers: { cookie }, body: new URLSearchParams({ csrf, ...fields }),
    });
    const home = () => fetch(`${srv.url}/label/`, { redirect: "manual", headers: { cookie } });
    return { status: 303, page, post, home };
  };
  try {
    let ann = await login("ann", "ann-pass-1");
    assert.match(ann.page, /Change your password/);
    let r = await ann.post("/label/account/password", { current: "nope", password: "ann-pass-2", password2: "ann-pass-2" });
    assert.equal(r.status, 403, "a wrong current password");
    assert.ok(!(await r.text()).includes("ann-pass-2"), "passwords are never shown back");
    r = await ann.post("/label/account/password", { current: "ann-pass-1", password: "ann-pass-2", password2: "ann-pass-3" });
    assert.equal(r.status, 400, "the two new ones differ");
    r = await ann.post("/label/account/password", { current: "ann-pass-1", password: "short", password2: "short" });
    assert.equal(r.status, 400, "too short");
    assert.equal((await ann.home()).status, 200, "refusals leave the session alone");
    r = await ann.post("/label/account/password", { current: "ann-pass-1", password: "ann-pass-2", password2: "ann-pass-2" });
    assert.equal(r.status, 303);
    assert.equal(r.headers.get("location"), "/label/login");
    assert.match(r.headers.get("set-cookie"), /Max-Age=0/);
    assert.equal((await ann.home()).status, 303, "the old session has ended");
    assert.equal((await login("ann", "ann-pass-1")).status, 401, "the old password no longer logs in");
    ann = await login("ann", "ann-pass-2");
    assert.equal(ann.status, 303, "the new one does");

    // A labeler cannot set passwords; an admin can, and that ends the user's sessions.
    r = await ann.post("/label/admin/password", { name: "root", password: "taken-over-1" });
    assert.equal(r.status, 403);
    assert.equal((await login("root", "root-pass-1")).status, 303, "root's password unchanged");
    const root = await login("root", "root-pass-1");
    r = await root.post("/label/admin/password", { name: "ann", password: "ann-reset-1" });
    assert.equal(r.status, 303);
    assert.equal((await ann.home()).status, 303, "ann's session ended with the reset");
    assert.equal((await login("ann", "ann-reset-1")).status, 303);

    // Guessing the current password counts against the login limit.
    ann = await login("ann", "ann-reset-1");
    for (let i = 0; i < 10; i++)
      await ann.post("/label/account/password", { current: `guess-${i}`, password: "x".repeat(8), password2: "x".repeat(8) });
    r = await ann.post("/label/account/password", { current: "ann-reset-1", password: "ann-pass-9", password2: "ann-pass-9" });
    assert.equal(r.status, 429, "the 11th try is refused even when right");
    assert.ok(Number(r.headers.get("retry-after")) > 0);
  } finally {
    await srv.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
  assert.doesNotMatch(srv.log(), /AddressSanitizer|LeakSanitizer|runtime error/, srv.log());
});
