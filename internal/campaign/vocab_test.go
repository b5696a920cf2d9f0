package campaign

import (
	"strings"
	"testing"

	"github.com/llmscale/llmscale/internal/matrix"
	"github.com/llmscale/llmscale/internal/server"
)

func TestPromptVocab(t *testing.T) {
	t.Parallel()
	size := func(n int) *int { return &n }
	cases := []struct {
		name         string
		matrix       *int
		server       int
		tokenizer    int
		want         int
		source, fail string
	}{
		{"unknown", nil, 0, 0, 0, "", ""},
		{"server", nil, 1024, 0, 1024, "server /v1/models meta.n_vocab", ""},
		{"matrix", size(32000), 0, 0, 32000, "matrix load.vocab_size", ""},
		{"matrix below server", size(500), 1024, 0, 500, "matrix load.vocab_size", ""},
		{"matrix above server", size(32000), 1024, 0, 0, "", "load.vocab_size 32000 (matrix) is larger than the server's vocabulary, 1024"},
		{"tokenizer", nil, 0, 50257, 50257, "tokenizer tok.json", ""},
		{"tokenizer below server", nil, 50304, 50257, 50257, "tokenizer tok.json", ""},
		{"tokenizer equal to matrix", size(50257), 0, 50257, 50257, "tokenizer tok.json", ""},
		{"tokenizer above server", nil, 32000, 50257, 0, "", "tokenizer tok.json has a vocabulary of 50257 tokens, larger than the server's, 32000"},
		{"tokenizer against matrix", size(32000), 0, 50257, 0, "", "load.vocab_size 32000 (matrix) disagrees with tokenizer tok.json"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var e matrix.Experiment
			e.Load.Settings.VocabSize, e.Load.Tokenizer = c.matrix, "tok.json"
			set := &serverSet{described: []server.Description{{VocabSize: c.server}}}
			got, err := promptVocab(e, set, c.tokenizer)
			if c.fail != "" {
				if err == nil || !strings.Contains(err.Error(), c.fail) {
					t.Fatalf("got %v, want an error containing %q", err, c.fail)
				}
				return
			}
			if err != nil || got.size != c.want || got.source != c.source {
				t.Errorf("got %d from %q (%v), want %d from %q", got.size, got.source, err, c.want, c.source)
			}
		})
	}
}
