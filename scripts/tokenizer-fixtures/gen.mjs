// Writes tiktoken rank files and reference encodings made by js-tiktoken (the JavaScript port
// of OpenAI's tiktoken) for internal/tokenizer's tests:
//   cd scripts/tokenizer-fixtures && npm install js-tiktoken@1.0.21 && node gen.mjs OUTDIR
// OUTDIR gets <encoding>.tiktoken ("<base64 token> <rank>" lines, tiktoken's own format) and
// expected.json ({encoding: [{text, ids}]}).
import { writeFileSync, mkdirSync } from "node:fs";
import { Tiktoken } from "js-tiktoken/lite";
import gpt2 from "js-tiktoken/ranks/gpt2";
import cl100k from "js-tiktoken/ranks/cl100k_base";
import o200k from "js-tiktoken/ranks/o200k_base";

const out = process.argv[2];
mkdirSync(out, { recursive: true });
const texts = [
  "Hello, world!", "The quick brown fox jumps over the lazy dog.", "  leading spaces and trailing   ",
  "tabs\tand\nnew\r\nlines\n\n\nend", "numbers 1234567 and 3.14159, 10,000", "I'm sure they'll've DON'T",
  "naïve café déjà vu — “quotes” ‘single’", "日本語のテキストと中文文本", "emoji 🎉🚀 and ZWJ 👩‍👩‍👧",
  "code: for (int i = 0; i < n; ++i) { x[i] = y[i] * 2; }", "   \n  \t x", "a\u00a0b\u2003c", "",
  "supercalifragilisticexpialidocious antidisestablishmentarianism", "CamelCaseWordsLikeThis and URLs https://example.com/a?b=c",
];
const expected = {};
for (const [name, ranks] of [["gpt2", gpt2], ["cl100k_base", cl100k], ["o200k_base", o200k]]) {
  const enc = new Tiktoken(ranks);
  // js-tiktoken packs ranks as lines "<tag> <first rank> <base64 token>…" (as its own loader
  // reads them): expand them to tiktoken's one "<base64 token> <rank>" per line.
  const lines = [];
  for (const line of ranks.bpe_ranks.split("\n").filter(Boolean)) {
    const [, offset, ...toks] = line.split(" ");
    toks.forEach((t, i) => lines.push(`${t} ${Number.parseInt(offset, 10) + i}`));
  }
  writeFileSync(`${out}/${name}.tiktoken`, lines.join("\n") + "\n");
  expected[name] = texts.map((text) => ({ text, ids: Array.from(enc.encode(text)) }));
}
writeFileSync(`${out}/expected.json`, JSON.stringify(expected));
