// label_kill.test.mjs: `kill -9` of the server while labelers write through the web app.
//
// Twenty replies are written and accepted first; then eight clients post replies as fast
// as they can and the server is killed with SIGKILL in the middle. Afterwards the file
// passes SQLite's integrity check (Python's sqlite3, independent of our code), a new
// server opens it, every accepted item is in the export, and every reply the server
// confirmed (a 303 received before the kill) is in the database.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { POSTTRAIN, ROOT, startServer } from "./serve_helpers.mjs";

const skip = !existsSync(POSTTRAIN) ? `${POSTTRAIN} missing: run make`
  : spawnSync("/usr/bin/python3", ["-c", "import sqlite3"]).status !== 0 ? "no python3 sqlite3 for the integrity check"
  : false;
if (skip) console.log(`skip: ${skip}`);

function cli(args, input) {
  const r = spawnSync(POSTTRAIN, args, { cwd: ROOT, encoding: "utf8", input });
  assert.equal(r.status, 0, `posttrain ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

// A logged-in client: post(path, fields) -> Response (redirects not followed).
async function session(url, name, password) {
  const r = await fetch(`${url}/label/login`, {
    method: "POST", redirect: "manual", body: new URLSearchParams({ name, password }),
  });
  assert.equal(r.status, 303, `login ${name}`);
  const cookie = r.headers.get("set-cookie").split(";")[0];
  const home = await (await fetch(`${url}/label/`, { headers: { cookie } })).text();
  const csrf = /name="csrf" value="([0-9a-f]+)"/.exec(home)[1];
  return {
    post: (path, fields) => fetch(`${url}${path}`, {
      method: "POST", redirect: "manual", headers: { cookie },
      body: new URLSearchParams({ csrf, ...fields }),
    }),
  };
}

const idOf = (r) => Number(/\/(\d+)$/.exec(r.headers.get("location"))[1]);

test("kill -9 while labelers write: the database opens cleanly, nothing accepted is lost", { skip, timeout: 120000 }, async () => {
  const tmp = mkdtempSync(join(tmpdir(), "pt-label-kill-"));
  const db = join(tmp, "label.sqlite");
  try {
    cli(["label", "init", db, "--project", "p"]);
    cli(["label", "user", "add", db, "--name", "lab", "--role", "labeler", "--password-stdin"], "lab-pass-1\n");
    cli(["label", "user", "add", db, "--name", "rev", "--role", "reviewer", "--password-stdin"], "rev-pass-1\n");
    let srv = await startServer(null, ["--label", db, "--quiet"]);
    const lab = await session(srv.url, "lab", "lab-pass-1");
    const rev = await session(srv.url, "rev", "rev-pass-1");
    let r = await lab.post("/label/project/1/prompt", { category: "chat", text: "Say something." });
    assert.equal(r.status, 303);
    const prompt = idOf(r);
    assert.equal((await rev.post(`/label/message/${prompt}/review`, { decision: "accept" })).status, 303);
    const accepted = [];
    for (let i = 0; i < 20; i++) {
      r = await lab.post(`/label/message/${prompt}/reply`, { text: `accepted reply ${i}` });
      assert.equal(r.status, 303);
      const id = idOf(r);
      assert.equal((await rev.post(`/label/message/${id}/review`, { decision: "accept" })).status, 303);
      accepted.push(id);
    }

    // The flood, and the kill in its middle.
    const confirmed = [];
    let stop = false;
    const writer = async (w) => {
      for (let i = 0; !stop; i++) {
        try {
          const x = await lab.post(`/label/message/${prompt}/reply`, { text: `flood ${w}.${i} ${"x".repeat(2000)}` });
          if (x.status === 303) confirmed.push(idOf(x));
        } catch {
          return;  // the server is gone
        }
      }
    };
    const writers = Array.from({ length: 8 }, (_, w) => writer(w));
    while (confirmed.length < 30) await new Promise((res) => setTimeout(res, 5));
    process.kill(srv.pid, "SIGKILL");
    stop = true;
    await Promise.all(writers);
    await srv.exited;
    console.log(`killed after ${confirmed.length} confirmed flood replies`);

    const py = spawnSync("/usr/bin/python3", ["-c",
      "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); print(c.execute('PRAGMA integrity_check').fetchone()[0]);"
      + "print(','.join(str(r[0]) for r in c.execute('SELECT id FROM messages')))", db], { encoding: "utf8" });
    assert.equal(py.status, 0, py.stderr);
    const [integrity, ids] = py.stdout.trim().split("\n");
    assert.equal(integrity, "ok");
    const present = new Set(ids.split(",").map(Number));
    for (const id of [prompt, ...accepted, ...confirmed]) assert.ok(present.has(id), `message ${id} survived`);

    // A new server opens the file and goes on; the export holds every accepted reply.
    srv = await startServer(null, ["--label", db, "--quiet"]);
    const lab2 = await session(srv.url, "lab", "lab-pass-1");
    assert.equal((await lab2.post(`/label/message/${prompt}/reply`, { text: "after the kill" })).status, 303);
    await srv.stop();
    const out = cli(["label", "export", db, "--project", "p", "--format", "openai"]);
    const answers = new Set(out.trim().split("\n").map((l) => JSON.parse(l).messages.at(-1).content));
    for (let i = 0; i < 20; i++) assert.ok(answers.has(`accepted reply ${i}`), `accepted reply ${i} exported`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
