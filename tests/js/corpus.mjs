// corpus.mjs: texts the tokenizer parity tests encode with posttrain and a reference.
// Written for coverage of the places where BPE tokenizers differ: pre-tokenizer regex
// edges (contractions, digits, whitespace runs, newlines), scripts and emoji, special
// token spellings inside ordinary text, and long runs without spaces.

function rng(seed) {  // small deterministic PRNG (mulberry32)
  return () => {
    seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const texts = [
  "",
  "What is 2+2?",
  "2+2 = 4",
  "Hello, world! This is a test of the tokenizer.",
  "The quick brown fox jumps over the lazy dog. THE QUICK BROWN FOX. tHe QuIcK.",
  "I'm sure you're right; they've said we'll see. It's John's. I'M SURE YOU'RE RIGHT. He'D",
  "don't DON'T Don't ’s l'amour aujourd'hui 'quoted' \"double\"",
  "Numbers: 0 1 12 123 1234 12345 123456 3.14159 -42 1e10 0x1F 1,000,000 2024-11-26 10:30",
  "    four leading spaces and trailing   ",
  "tabs\tand\t\ttabs\n\nnewlines\r\nwindows\r\n\n\n   \n  x",
  "  \n\n  \t \n",
  "def f(x):\n    return x ** 2  # square\n\nfor i in range(10):\n\tprint(f(i))\n",
  "int main(void) { printf(\"%d\\n\", a[i] += 3); return 0; } // C\n#include <stdio.h>",
  "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"n\": 1}",
  "<html><body class=\"x\">&nbsp;&amp;</body></html>",
  "https://example.com/path/to/page?q=1&r=two#frag and user@example.org",
  "我们需要一个助手，能够提出问题并得到模型的回答。后训练阶段的计算成本将大幅降低。",
  "日本語のテキスト、カタカナとひらがな。東京は大きい。",
  "한국어 텍스트입니다. 안녕하세요! 영어→한국어 번역",
  "مرحبا بالعالم. هذا نص عربي.",
  "नमस्ते दुनिया। यह हिंदी पाठ है।",
  "Привет, мир! Ελληνικά κείμενα. עברית",
  "emoji: 😀😃😄 👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 🇺🇸🇯🇵🇨🇳 ❤️ ✨",
  "combining: e\u0301 a\u0300\u0301 n\u0303 Z\u0351\u0352\u0353 café vs cafe\u0301",
  "literal specials: <|endoftext|> and <|im_start|>user<|im_sep|>hi<|im_end|> and <|endofprompt|>",
  "<|endoftext|><|endoftext|>",
  "math: ∑ x² ≤ ∞, α+β=γ, √2 ≈ 1.414, ½ ¾",
  "mixed CamelCaseWords and snake_case_words and SCREAMING_CASE and kebab-case",
  "punctuation!!! ??? ... --- ___ *** /// \\\\\\ ((())) [[]] {{}}",
  "non-breaking\u00a0space and\u2003em space and\u3000ideographic space and\u2028line sep",
  "zero\u200bwidth\u200cjoiners\u200d and soft\u00adhyphen",
  "ſ long s 'ſ and Kelvin \u212a and 'S",
  "a".repeat(3000),
  " ".repeat(2000) + "x",
  "\n".repeat(500),
  "1234567890".repeat(200),
  "!@#$%^&*()".repeat(150),
  "中".repeat(1500),
  "😀".repeat(500),
];

// A base64 blob and a few documents of random words: deterministic, varied.
{
  const r = rng(1234);
  const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  let blob = "";
  for (let i = 0; i < 6000; i++) blob += b64[Math.floor(r() * 64)];
  texts.push(blob + "==");
  const words = ["the", "model", "token", "assistant", "Hello", "data", "2+2", "loss", "GPU",
    "naïve", "résumé", "über", "北京", "模型", "🙂", "it's", "can't", "x=1;", "\n", "\t", "  ",
    "don't", "ID", "42", "3.5", "C++", "e.g.", "(note)", "—", "…", "“quoted”"];
  for (let d = 0; d < 30; d++) {
    let s = "";
    const n = 20 + Math.floor(r() * 200);
    for (let i = 0; i < n; i++) s += words[Math.floor(r() * words.length)] + (r() < 0.8 ? " " : "");
    texts.push(s);
  }
}
