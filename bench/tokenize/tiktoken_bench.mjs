// tiktoken_bench.mjs: the npm `tiktoken` package (Rust compiled to WASM) on the same
// inputs as bench_tokenize.c, for bench/tokenize/run.sh.
//
//   node tiktoken_bench.mjs single NAME CORPUS [REPS]   encode_ordinary per document, best of REPS
//   node tiktoken_bench.mjs counts NAME CORPUS          token count per document, one a line
//   node tiktoken_bench.mjs run NAME CHAR BYTES...      one run of CHAR repeated BYTES times
//
// The corpus is split at 0x1E bytes into documents, as the C driver does. Reading the
// file and building the encoder are not timed; the time includes tiktoken's own
// JS-string -> UTF-8 copy into WASM memory, which is part of what a caller pays. Output
// lines use the same "key=value" form as the C driver.
import { readFileSync } from "node:fs";
import { get_encoding } from "tiktoken";

const [mode, name, ...rest] = process.argv.slice(2);
if (!mode || !name) {
    console.error("usage: node tiktoken_bench.mjs single|counts|run NAME ...");
    process.exit(2);
}
const enc = get_encoding(name);

if (mode === "single" || mode === "counts") {
    const raw = readFileSync(rest[0]);
    const docs = raw.toString("utf8").split("\x1e");
    const bytes = raw.length - (docs.length - 1);
    if (mode === "counts") {
        console.log(docs.map((d) => enc.encode_ordinary(d).length).join("\n"));
    } else {
        const reps = Number(rest[1] || 3);
        let best = Infinity, tokens = 0;
        for (let r = 0; r < reps; r++) {
            const t0 = process.hrtime.bigint();
            tokens = 0;
            for (const d of docs) tokens += enc.encode_ordinary(d).length;
            const dt = Number(process.hrtime.bigint() - t0) / 1e9;
            if (dt < best) best = dt;
        }
        console.log(`mode=single threads=1 docs=${docs.length} bytes=${bytes} tokens=${tokens} seconds=${best.toFixed(4)} mbps=${(bytes / best / 1e6).toFixed(2)}`);
    }
} else if (mode === "run") {
    const ch = rest[0];
    for (const arg of rest.slice(1)) {
        const n = Number(arg);
        const s = ch[0].repeat(n);
        // Long runs are quadratic in tiktoken: time large ones once, small ones best of 3.
        const reps = n <= 100000 ? 3 : 1;
        let best = Infinity, tokens = 0;
        for (let r = 0; r < reps; r++) {
            const t0 = process.hrtime.bigint();
            tokens = enc.encode_ordinary(s).length;
            const dt = Number(process.hrtime.bigint() - t0) / 1e9;
            if (dt < best) best = dt;
        }
        console.log(`mode=run char=${ch[0]} bytes=${n} tokens=${tokens} seconds=${best.toFixed(6)}`);
    }
} else {
    console.error(`tiktoken_bench: unknown mode ${mode}`);
    process.exit(2);
}
enc.free();
