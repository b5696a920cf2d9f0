package loadgen

import (
	"strings"
	"testing"
)

func TestFailureHint(t *testing.T) {
	t.Parallel()
	targets := []string{"http://127.0.0.1:8080"}
	cases := []struct {
		name   string
		errors []string
		want   string
	}{
		{"llama.cpp invalid tokens", []string{"http_400: HTTP 400: Prompt contains invalid tokens"}, "vocab_size"},
		{"vllm out of vocabulary", []string{"http_400: HTTP 400: Token id 50000 is out of vocabulary"}, "vocab_size"},
		{"llama.cpp context", []string{"http_400: HTTP 400: request (300 tokens) exceeds the available context size (256 tokens), try increasing it"}, "--ctx-size"},
		{"vllm context", []string{"http_400: HTTP 400: This model's maximum context length is 2048 tokens"}, "context"},
		{"refused", []string{"connect: dial tcp 127.0.0.1:8080: connect: connection refused"}, "is the server up at http://127.0.0.1:8080?"},
		{"other", []string{"http_404: HTTP 404: model m not found"}, `serve model "m"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if got := FailureHint(c.errors, targets, "m", "completions"); !strings.Contains(got, c.want) {
				t.Errorf("got %q, want it to contain %q", got, c.want)
			}
		})
	}
}
