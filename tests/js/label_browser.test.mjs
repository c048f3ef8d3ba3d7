// label_browser.test.mjs: the labeling app end to end in a real headless Chromium (Debian
// chromium, driven by npm playwright-core), with the served model drafting replies.
//
// An admin creates a project and two users through the admin page; a labeler logs in,
// writes a prompt and the ideal response, asks the model for a draft and edits it, and
// ranks the two replies; a reviewer accepts everything. The OpenAI export then holds both
// conversations, `posttrain data stats` reads it, `posttrain train` trains on it, and the
// rankings export holds the labeler's order. Screenshots go to build/artifacts/label-*.png (docs/label.md shows them).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { POSTTRAIN, ROOT, prepareModel, findChromium, startServer } from "./serve_helpers.mjs";

const chromium = await findChromium();
const model = prepareModel();
const skip = chromium.skip ?? model.skip ?? false;
if (skip) console.log(`skip: ${skip}`);

function cli(args, input) {
  const r = spawnSync(POSTTRAIN, args, { cwd: ROOT, encoding: "utf8", input });
  assert.equal(r.status, 0, `posttrain ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

const PROMPT = "What is the capital of France? Answer in one sentence. <script>alert(1)</script>";
const IDEAL = "The capital of France is Paris.";

test("labeling app: admin, labeler, model draft, ranking, review, export", { skip, timeout: 240000 }, async () => {
  const db = join(model.tmp, "label.sqlite");
  cli(["label", "init", db]);
  cli(["label", "user", "add", db, "--name", "admin", "--role", "admin", "--password-stdin"], "admin-pass-1\n");
  const srv = await startServer(model.dir, ["--label", db, "--parallel", "2", "--quiet", ...model.args]);
  const browser = await chromium.launch();
  const artifacts = join(ROOT, "build/artifacts");
  mkdirSync(artifacts, { recursive: true });
  const shot = (page, name) => page.screenshot({ path: join(artifacts, `label-${name}.png`), fullPage: true });
  const errors = [];
  async function login(name, password) {
    const ctx = await browser.newContext({ viewport: { width: 1200, height: 800 } });
    const page = await ctx.newPage();
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${srv.url}/label/`);
    assert.match(page.url(), /\/label\/login$/, "a page without a session sends the browser to the login");
    await page.fill("input[name=name]", name);
    await page.fill("input[name=password]", password);
    await Promise.all([page.waitForURL(`${srv.url}/label/`), page.click("button[type=submit]")]);
    assert.equal((await page.textContent(".who")).split(" ")[0], name);
    return { ctx, page };
  }
  try {
    // The admin: a project with the default guidelines, a labeler and a reviewer.
    const { page: admin } = await login("admin", "admin-pass-1");
    await admin.click("text=Admin");
    await admin.fill(".project-form input[name=name]", "Assistant v1");
    await Promise.all([admin.waitForURL(/\/label\/project\/\d+$/), admin.click(".project-form button")]);
    const projectUrl = admin.url();
    assert.match(await admin.textContent("aside.guidelines"), /[Hh]elpful/, "the guidelines stand beside the task");
    await admin.goto(`${srv.url}/label/admin`);
    for (const [name, role] of [["alice", "labeler"], ["rita", "reviewer"]]) {
      await admin.fill(".user-form input[name=name]", name);
      await admin.selectOption(".user-form select[name=role]", role);
      await admin.fill(".user-form input[name=password]", `${name}-pass-1`);
      await Promise.all([admin.waitForURL(`${srv.url}/label/admin`), admin.click(".user-form button")]);
    }
    const users = await admin.$$eval("table.users td", (tds) => tds.map((t) => t.textContent));
    assert.ok(users.includes("alice") && users.includes("rita"), users.join(","));
    await shot(admin, "admin");

    // The labeler: a prompt, the ideal response, an edited model draft, a ranking.
    const { page: alice } = await login("alice", "alice-pass-1");
    await alice.goto(projectUrl);
    await alice.selectOption(".task-form select[name=category]", "open_qa");
    await alice.fill(".task-form textarea[name=text]", PROMPT);
    await Promise.all([alice.waitForURL(/\/label\/message\/\d+$/), alice.click(".task-form button")]);
    const promptUrl = alice.url();
    assert.equal(await alice.textContent("article.msg.current pre.text"), PROMPT, "the prompt reads back verbatim");
    await alice.fill(".reply-form textarea[name=text]", IDEAL);
    await Promise.all([alice.waitForURL(/\/label\/message\/\d+$/), alice.click(".reply-form button")]);
    assert.notEqual(alice.url(), promptUrl);
    assert.equal(await alice.textContent("article.msg.current pre.text"), IDEAL);

    await alice.goto(promptUrl);
    await Promise.all([alice.waitForURL(/\/label\/draft\/\d+$/, { timeout: 60000 }), alice.click(".draft-form button")]);
    const draftText = await alice.textContent("pre.draft");
    assert.equal(await alice.inputValue(".edit-draft-form textarea"), draftText, "the form starts from the model's draft");
    await shot(alice, "draft");
    const edited = `${draftText.trim()} Paris is the capital of France.`.trim();
    await alice.fill(".edit-draft-form textarea", edited);
    await Promise.all([alice.waitForURL(/\/label\/message\/\d+$/), alice.click(".edit-draft-form button")]);
    assert.equal(await alice.textContent("article.msg.current pre.text"), edited);
    assert.equal(await alice.textContent("article.msg.assistant.current .role"), "Assistant");

    await alice.goto(promptUrl);
    const ids = await alice.$$eval(".rank-form select", (ss) => ss.map((s) => s.name.slice(5)));
    assert.equal(ids.length, 2, "two replies to rank");
    await alice.selectOption(`.rank-form select[name=rank_${ids[0]}]`, "1");
    await alice.selectOption(`.rank-form select[name=rank_${ids[1]}]`, "2");
    await shot(alice, "thread");
    await Promise.all([alice.waitForURL(promptUrl), alice.click(".rank-form button")]);

    // A labeler sees neither the admin page nor exports.
    const denied = await alice.goto(`${srv.url}/label/admin`);
    assert.equal(denied.status(), 403);

    // The reviewer: the queue lists alice's three messages; accept them all.
    const { page: rita } = await login("rita", "rita-pass-1");
    const reviews = await rita.$$eval("li.task.review a", (as) => as.map((a) => a.getAttribute("href")));
    assert.equal(reviews.length, 3, `three messages to review: ${reviews}`);
    await shot(rita, "queue");
    for (const href of reviews) {
      await rita.goto(`${srv.url}${href}`);
      await Promise.all([rita.waitForURL(`${srv.url}${href}`), rita.click(".review-form button[value=accept]")]);
      assert.equal(await rita.textContent("article.msg.current .state"), "accepted");
    }
    await rita.goto(promptUrl);
    await shot(rita, "review");

    // Export as the reviewer, through the page's links.
    const get = async (fmt) => {
      const r = await rita.request.get(`${projectUrl}/export/${fmt}`);
      assert.equal(r.status(), 200);
      assert.match(r.headers()["content-disposition"], /attachment/);
      return (await r.text()).trim().split("\n").map((l) => JSON.parse(l));
    };
    const convs = await get("openai");
    assert.equal(convs.length, 2, "one conversation per accepted reply");
    const answers = convs.map((c) => c.messages.at(-1).content).sort();
    assert.deepEqual(answers, [IDEAL, edited].sort());
    for (const c of convs) assert.equal(c.messages[0].content, PROMPT);
    const ranks = await get("rankings");
    assert.equal(ranks.length, 1);
    assert.equal(ranks[0].labeler, "alice");
    assert.deepEqual(ranks[0].ranked.map((r) => String(r.message_id)), ids);
    const file = join(model.tmp, "export.jsonl");
    writeFileSync(file, convs.map((c) => JSON.stringify(c)).join("\n") + "\n");
    const stats = JSON.parse(cli(["data", "stats", file, "--json"]));
    assert.equal(stats.conversations, 2);
    assert.equal(stats.messages.assistant, 2);
    // ... and goes straight into the trainer.
    const out = join(model.tmp, "from-labels");
    cli(["train", "--model", model.dir, "--data", file, "--out", out, "--steps", "2", "--seq-len", "128",
         "--batch-size", "2", "--lr", "1e-4", "--quiet", ...model.args]);
    assert.ok(existsSync(join(out, "config.json")), "a model trained on the export");
    assert.deepEqual(errors, [], "no page errors");
  } finally {
    await browser.close();
    await srv.stop();
  }
  // Under `make asan` the server reports leaks and errors on its way out.
  assert.doesNotMatch(srv.log(), /AddressSanitizer|LeakSanitizer|runtime error/, srv.log());
});
