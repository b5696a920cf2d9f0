package tokenizer

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// benchVocab is a vocabulary of n pieces over a small alphabet: every letter, then random
// words and word parts of 2 to 9 letters, seeded so that every run encodes the same.
func benchVocab(n int) []string {
	rng := rand.New(rand.NewPCG(1, 2))
	seen := map[string]bool{}
	var out []string
	for c := 'a'; c <= 'z'; c++ {
		out, seen[string(c)] = append(out, string(c)), true
	}
	for len(out) < n {
		b := make([]byte, 2+rng.IntN(8))
		for i := range b {
			b[i] = byte('a' + rng.IntN(26))
		}
		if !seen[string(b)] {
			out, seen[string(b)] = append(out, string(b)), true
		}
	}
	return out
}

// benchText is about 10 kB of words drawn from the vocabulary, some glued together, with
// punctuation and a few characters no piece covers.
func benchText(vocab []string) string {
	rng := rand.New(rand.NewPCG(3, 4))
	var b strings.Builder
	for b.Len() < 10_000 {
		b.WriteString(vocab[rng.IntN(len(vocab))])
		switch rng.IntN(10) {
		case 0:
			b.WriteString(", ")
		case 1:
			b.WriteString("é ")
		case 2: // glued: the next word continues this one
		default:
			b.WriteByte(' ')
		}
	}
	return b.String()
}

func benchTokenizers(b *testing.B) (map[string]*Tokenizer, string) {
	vocab := benchVocab(30_000)
	uni := [][2]any{{"<unk>", 0.0}}
	wp := map[string]int{"[UNK]": 0, ",": 1}
	for i, p := range vocab {
		uni = append(uni, [2]any{"▁" + p, -math.Log(float64(i + 2))}, [2]any{p, -math.Log(float64(i+2)) - 1})
		wp[p], wp["##"+p] = len(wp), len(wp)+1
	}
	docs := map[string]any{
		"unigram": map[string]any{
			"normalizer":    map[string]any{"type": "NFKC"},
			"pre_tokenizer": map[string]any{"type": "Sequence", "pretokenizers": []any{map[string]any{"type": "WhitespaceSplit"}, map[string]any{"type": "Metaspace", "prepend_scheme": "always"}}},
			"model":         map[string]any{"type": "Unigram", "unk_id": 0, "vocab": uni}},
		"wordpiece": map[string]any{
			"normalizer":    map[string]any{"type": "BertNormalizer", "lowercase": true},
			"pre_tokenizer": map[string]any{"type": "BertPreTokenizer"},
			"model":         map[string]any{"type": "WordPiece", "unk_token": "[UNK]", "vocab": wp}},
	}
	out := map[string]*Tokenizer{}
	for name, doc := range docs {
		data, err := json.Marshal(doc)
		if err != nil {
			b.Fatal(err)
		}
		if out[name], err = ParseHF(data); err != nil {
			b.Fatal(err)
		}
	}
	return out, benchText(vocab)
}

// BenchmarkEncode: 10 kB of text through a 60,000-piece Unigram (T5's layout) and a
// 60,000-entry WordPiece (BERT's).
func BenchmarkEncode(b *testing.B) {
	tks, text := benchTokenizers(b)
	for _, name := range []string{"unigram", "wordpiece"} {
		b.Run(name, func(b *testing.B) {
			tk := tks[name]
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				n = len(tk.Encode(text))
			}
			b.ReportMetric(float64(n), "tokens")
		})
	}
}

func ExampleTokenizer_Encode() {
	tk, err := ParseHF([]byte(`{"model": {"type": "WordPiece", "vocab": {"[UNK]": 0, "un": 1, "##aff": 2, "##able": 3}}}`))
	if err != nil {
		panic(err)
	}
	fmt.Println(tk.Encode("unaffable"), tk.Encode("unaffablex"))
	// Output: [1 2 3] [0]
}
