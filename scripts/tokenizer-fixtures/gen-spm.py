#!/usr/bin/python3
"""Writes internal/tokenizer/testdata/spm-unigram.json: SentencePiece Unigram models trained by
SentencePiece itself, converted to tokenizer.json as Hugging Face's SpmConverter does
(Precompiled normaliser with the model's compiled character map, Strip right, Replace " {2,}"
with "▁", Metaspace, Unigram), with the ids SentencePiece gives for a set of texts.

Needs Debian's sentencepiece bindings (apt-get install python3-sentencepiece python3-protobuf):
    /usr/bin/python3 scripts/tokenizer-fixtures/gen-spm.py internal/tokenizer/testdata/spm-unigram.json

The models are small (a few hundred pieces, trained on config/prompts_*.txt) and use a custom
normalisation rule table, so that the character map is small enough to commit; SentencePiece
compiles it into the same double-array format as its built-in nmt_nfkc. Texts avoid what the
two implementations do differently on purpose (leading spaces, which SentencePiece strips and
the converted file keeps; a grapheme whose first character alone has a rule; runs such as
"000" where two segmentations score exactly the same, which SentencePiece and tokenizers
break differently).
"""
import base64
import glob
import json
import os
import sys
import tempfile

import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2 as pb

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")

# source code points → target code points (SentencePiece's normalization_rule_tsv format)
RULES = [([0xFF21 + i], [0x41 + i]) for i in range(26)] + [([0xFF41 + i], [0x61 + i]) for i in range(26)] + [
    ([0xFB01], [0x66, 0x69]),  # ﬁ → fi
    ([0x65, 0x301], [0xE9]),  # e + combining acute → é (a two-character key)
    ([0x3000], [0x20]),  # ideographic space → space
    ([0xA0], [0x20]),  # no-break space → space
    ([0x2460], [0x31]),  # ① → 1
    ([0x2461], [0x32]),  # ② → 2
    ([0x201C], [0x22]),  # “ → "
    ([0x201D], [0x22]),  # ” → "
]

TEXTS = [
    "Hello, world!", "The quick brown fox jumps over the lazy dog.", "trailing spaces   ",
    "many   spaces   inside", "numbers 1234567 and 3.14159, 10,250", "I'm sure they'll've DON'T",
    "ＦＵＬＬ ｗｉｄｔｈ letters", "ﬁne ﬁsh ① ②", "cafe\u0301 and café", "ideographic\u3000space and\u00a0nbsp",
    "“quoted” text", "unknown ☃ ꙮ ᚠᛇᚻ symbols", "日本語のテキスト", "emoji 🎉🚀 here", "supercalifragilisticexpialidocious",
    "a", "Describe the architecture of a large language model inference server.",
]


def corpus(path):
    with open(path, "w", encoding="utf-8") as out:
        for name in sorted(glob.glob(os.path.join(ROOT, "config", "prompts_*.txt"))):
            with open(name, encoding="utf-8") as f:
                out.write(f.read())
        out.write("\n".join(TEXTS[:6]) + "\n")


def tokenizer_json(model, byte_fallback):
    unk = next(i for i, p in enumerate(model.pieces) if p.type == pb.ModelProto.SentencePiece.UNKNOWN)
    charsmap = base64.b64encode(model.normalizer_spec.precompiled_charsmap).decode()
    return {
        "version": "1.0",
        "added_tokens": [{"id": i, "content": p.piece, "special": True} for i, p in enumerate(model.pieces)
                         if p.type in (pb.ModelProto.SentencePiece.CONTROL, pb.ModelProto.SentencePiece.UNKNOWN)],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Precompiled", "precompiled_charsmap": charsmap},
            {"type": "Strip", "strip_left": False, "strip_right": True},
            {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": "▁"}]},
        "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True},
        "post_processor": None,
        "decoder": None,
        "model": {"type": "Unigram", "unk_id": unk, "byte_fallback": byte_fallback,
                  "vocab": [[p.piece, p.score] for p in model.pieces]},
    }


def main():
    out = sys.argv[1]
    cases = []
    with tempfile.TemporaryDirectory() as tmp:
        text = os.path.join(tmp, "corpus.txt")
        corpus(text)
        rules = os.path.join(tmp, "rules.tsv")
        with open(rules, "w", encoding="utf-8") as f:
            for src, dst in RULES:
                f.write(" ".join("%X" % c for c in src) + "\t" + " ".join("%X" % c for c in dst) + "\n")
        for byte_fallback in (False, True):
            prefix = os.path.join(tmp, "m%d" % byte_fallback)
            spm.SentencePieceTrainer.train(
                input=text, model_prefix=prefix, model_type="unigram", vocab_size=300 + 256 * byte_fallback,
                hard_vocab_limit=False, character_coverage=0.9995, normalization_rule_tsv=rules,
                byte_fallback=byte_fallback, minloglevel=2)
            model = pb.ModelProto()
            with open(prefix + ".model", "rb") as f:
                model.ParseFromString(f.read())
            sp = spm.SentencePieceProcessor(model_file=prefix + ".model")
            cases.append({"name": "byte_fallback" if byte_fallback else "unk",
                          "tokenizer": tokenizer_json(model, byte_fallback),
                          "expected": [{"text": t, "ids": sp.encode(t)} for t in TEXTS]})
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"generator": "scripts/tokenizer-fixtures/gen-spm.py, SentencePiece " + spm.__version__,
                   "cases": cases}, f, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
