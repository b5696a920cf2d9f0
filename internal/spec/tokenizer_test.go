package spec

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tinyTokenizer is a WordPiece tokenizer.json of 4 tokens.
const tinyTokenizer = `{"model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[UNK]": 0, "a": 1, "b": 2, "##b": 3}}}`

// TestTokenizerKey: the tokenizer is read at plan time, relative to the matrix; a missing,
// unsupported or empty one, and a load.vocab_size other than its vocabulary, are problems at
// their line.
func TestTokenizerKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, body := range map[string]string{
		"tok/tokenizer.json": tinyTokenizer,
		"ws.json":            `{"pre_tokenizer": {"type": "WhitespaceSplit"}, "model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[UNK]": 0, "a": 1, "##b": 2}}}`,
		"long.txt":           strings.Repeat("abbb ", 100) + "\n",
		"t5.json":            `{"pre_tokenizer": {"type": "Digits"}, "model": {"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0]]}}`,
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const head = "factors: {prompts: ['random:8']}\n"
	l, err := Parse([]byte(head+"tokenizer: tok\n"), "m.yaml", dir)
	if err != nil {
		t.Fatalf("a folder holding tokenizer.json: %v", err)
	}
	if got, want := l.TokenizerPath(), filepath.Join(dir, "tok"); got != want {
		t.Errorf("TokenizerPath = %q, want %q (relative to the matrix)", got, want)
	}
	if _, err := Parse([]byte(head+"tokenizer: tok\nload: {vocab_size: 4}\n"), "m.yaml", dir); err != nil {
		t.Errorf("load.vocab_size equal to the tokenizer's: %v", err)
	}
	cases := []struct {
		name, yaml string
		want       []string
	}{
		{"missing", head + "tokenizer: nope.json\n", []string{"m.yaml:2:12: tokenizer:", "nope.json", "no such file"}},
		{"unsupported", head + "tokenizer: t5.json\n", []string{"m.yaml:2:12: tokenizer:", `pre-tokenizer "Digits"`, "docs/datasets.md"}},
		{"empty", head + "tokenizer: ''\n", []string{"m.yaml:2:12: tokenizer:"}},
		{"vocab_size disagrees", head + "tokenizer: tok\nload:\n  vocab_size: 32000\n", []string{
			"m.yaml:4:15: load.vocab_size: 32000 disagrees with tokenizer tok, a vocabulary of 4 tokens", "leave load.vocab_size out"}},
		// "abbb" is about 1 token by the approximation and 4 (a ##b ##b ##b) by the tokenizer:
		// the context check counts as the run will.
		{"fits by the approximation", "factors: {prompts: [long.txt]}\nserver: {extra_args: [--max-model-len, '256']}\n", nil},
		{"too long by the tokenizer", "factors: {prompts: [long.txt]}\nserver: {extra_args: [--max-model-len, '256']}\ntokenizer: ws.json\n", []string{
			"long.txt holds a prompt of 400 tokens (counted by ws.json), longer than the model's context (--max-model-len 256)"}},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.yaml), "m.yaml", dir)
		if c.want == nil {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: error %v, want an invalid matrix", c.name, err)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error\n%v\nwant it to contain %q", c.name, err, w)
			}
		}
	}
}
