// npm_to_tiktoken.mjs: rebuilds a .tiktoken rank file from the npm `tiktoken` package.
//
//   node bench/tokenize/npm_to_tiktoken.mjs NAME OUT_FILE
//
// The package ships each encoding as encoders/NAME.json, whose bpe_ranks field packs the
// ranks as lines of "! <offset> <tok> <tok> …": base64 tokens whose ranks count up from
// offset. A .tiktoken file spells the same thing as one "<base64> <rank>" line per token.
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";

const [name, out] = process.argv.slice(2);
if (!name || !out) {
    console.error("usage: node npm_to_tiktoken.mjs NAME OUT_FILE");
    process.exit(2);
}
const require = createRequire(import.meta.url);
const src = require.resolve(`tiktoken/encoders/${name}.json`);
const { bpe_ranks } = JSON.parse(readFileSync(src, "utf8"));
const lines = [];
for (const group of bpe_ranks.split("\n")) {
    const f = group.split(" ").filter((x) => x.length);
    if (f.length < 2 || f[0] !== "!") continue;
    let rank = Number(f[1]);
    for (const tok of f.slice(2)) lines.push(`${tok} ${rank++}`);
}
writeFileSync(out, lines.join("\n") + "\n");
console.error(`npm_to_tiktoken: ${lines.length} ranks from ${src} -> ${out}`);
