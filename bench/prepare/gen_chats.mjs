// gen_chats.mjs: the data-prepare benchmark's conversations, from the tokenize corpus.
//
//   node bench/prepare/gen_chats.mjs CORPUS OUT.jsonl [SEED]
//
// CORPUS is bench/tokenize's mixed-text corpus (documents separated by 0x1E). Each
// document is cut at whitespace into pieces of 200–3000 characters; runs of 2–8 pieces
// become one conversation of alternating user / assistant turns (a system message in a
// third of them), so the turns carry the corpus's prose, code, JSON, tables and scripts.
// 3% of the conversations are repeated verbatim, for the dedup step. Seeded: the same
// corpus and SEED give the same bytes.
import { readFileSync, writeFileSync } from "node:fs";

const [corpus, out, seedArg] = process.argv.slice(2);
if (!corpus || !out) {
    console.error("usage: node gen_chats.mjs CORPUS OUT.jsonl [SEED]");
    process.exit(2);
}
let state = (Number(seedArg || 7) >>> 0) || 1;
const rand = () => {  // xorshift32: enough for choosing cut points
    state ^= state << 13; state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5; state >>>= 0;
    return state / 4294967296;
};
const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));

const pieces = [];
for (const doc of readFileSync(corpus, "utf8").split("\x1e")) {
    let at = 0;
    while (at < doc.length) {
        let end = Math.min(doc.length, at + int(200, 3000));
        while (end < doc.length && !/\s/.test(doc[end])) end++;  // whole words (and code points)
        const p = doc.slice(at, end).trim();
        if (p) pieces.push(p);
        at = end;
    }
}
const lines = [];
for (let i = 0; i < pieces.length;) {
    const n = int(2, 8), messages = [];
    if (rand() < 0.33) messages.push({ role: "system", content: "You are a helpful assistant." });
    for (let k = 0; k < n && i < pieces.length; k++, i++)
        messages.push({ role: k % 2 ? "assistant" : "user", content: pieces[i] });
    if (messages[messages.length - 1].role !== "assistant") messages.push({ role: "assistant", content: "OK." });
    lines.push(JSON.stringify({ messages }));
    if (rand() < 0.03) lines.push(lines[lines.length - 1]);
}
writeFileSync(out, lines.join("\n") + "\n");
console.error(`${lines.length} conversations, ${pieces.length} turns`);
