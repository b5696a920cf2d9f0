package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmscale/llmscale/internal/gguf"
)

func TestModelRandom(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(dir, "m.gguf")
	write(t, filepath.Join(dir, "file"), "not a folder")
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no out", []string{"model", "random"}, ExitUsage, "--out is required"},
		{"unknown size", []string{"model", "random", "--out", out, "--size", "huge"}, ExitUsage, "known: tiny"},
		{"bad vocab", []string{"model", "random", "--out", out, "--vocab", "10"}, ExitUsage, "vocab 10"},
		{"unwritable", []string{"model", "random", "--out", filepath.Join(dir, "file", "m.gguf")}, ExitFailed, "m.gguf"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := runInProcess(t, dir, c.args...)
			if r.code != c.code || !strings.Contains(r.stderr, c.want) {
				t.Fatalf("exit %d, stderr %q; want %d containing %q", r.code, r.stderr, c.code, c.want)
			}
		})
	}
	r := runInProcess(t, dir, "model", "random", "--out", out, "--vocab", "2000", "--context", "512", "--seed", "9")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	f, err := gguf.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]uint64{"llama.vocab_size": 2000, "llama.context_length": 512, "llmscale.random_seed": 9} {
		if got, _ := f.Uint(key); got != want {
			t.Errorf("%s: got %d, want %d", key, got, want)
		}
	}
}
