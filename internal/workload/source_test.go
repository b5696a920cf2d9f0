package workload_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/llmscale/llmscale/internal/workload"
)

func TestResolve(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, name := range []string{"prompts_short.txt", "my set.json", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("a prompt\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	abs := filepath.Join(dir, "notes.txt")
	sets := map[string]string{
		"chat":     "my set.json",
		"tiny":     "random:16:8",
		"odd name": "notes.txt",
		"abs":      abs,
	}
	text := func(name, file string) workload.Source {
		return workload.Source{Name: name, Kind: workload.KindText, Path: filepath.Join(dir, file)}
	}
	tests := []struct {
		level string
		want  workload.Source
	}{
		{"short", text("short", "prompts_short.txt")},
		{"prompts_short.txt", text("short", "prompts_short.txt")},
		{"chat", workload.Source{Name: "chat", Kind: workload.KindShareGPT, Path: filepath.Join(dir, "my set.json")}},
		{"my set.json", workload.Source{Name: "my-set", Kind: workload.KindShareGPT, Path: filepath.Join(dir, "my set.json")}},
		{"odd name", text("odd-name", "notes.txt")},
		{"abs", text("abs", "notes.txt")},
		{abs, text("notes", "notes.txt")},
		{"tiny", workload.Source{Name: "tiny", Kind: workload.KindRandom, InTokens: 16, OutTokens: 8}},
		{"random:1024:128", workload.Source{Name: "rand1024x128", Kind: workload.KindRandom, InTokens: 1024, OutTokens: 128}},
		{"random:512", workload.Source{Name: "rand512", Kind: workload.KindRandom, InTokens: 512}},
		{"random:7:0", workload.Source{Name: "rand7", Kind: workload.KindRandom, InTokens: 7}},
		{"random:1048576:1048576", workload.Source{Name: "rand1048576x1048576", Kind: workload.KindRandom,
			InTokens: workload.MaxRandomTokens, OutTokens: workload.MaxRandomTokens}},
	}
	for _, tt := range tests {
		t.Run(tt.level, func(t *testing.T) {
			t.Parallel()
			got, err := workload.Resolve(tt.level, sets, dir)
			if err != nil {
				t.Fatalf("Resolve(%q): %v", tt.level, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Resolve(%q) (-want +got):\n%s", tt.level, diff)
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sets := map[string]string{"gone": "nowhere/missing.json", "badrand": "random:x"}
	tests := []struct {
		level    string
		notFound bool     // errors.Is(err, workload.ErrNotFound)
		want     []string // substrings of the error
	}{
		{"nosuch", true, []string{filepath.Join(dir, "prompts_nosuch.txt"), "prompt_sets", "random:IN:OUT"}},
		{"missing.txt", true, []string{filepath.Join(dir, "missing.txt")}},
		{"sub/missing.json", true, []string{filepath.Join(dir, "sub", "missing.json")}},
		{"gone", true, []string{filepath.Join(dir, "nowhere", "missing.json")}},
		{"badrand", false, []string{`"random:x"`, "random:IN or random:IN:OUT"}},
		{"random:", false, []string{"random:IN or random:IN:OUT"}},
		{"random:abc", false, []string{"random:IN or random:IN:OUT"}},
		{"random:10:", false, []string{"random:IN or random:IN:OUT"}},
		{"random:-5", false, []string{"random:IN or random:IN:OUT"}},
		{"random:1:2:3", false, []string{"random:IN or random:IN:OUT"}},
		{"random: 8", false, []string{"random:IN or random:IN:OUT"}},
		{"random:0", false, []string{"at least one token"}},
		{"random:0:10", false, []string{"at least one token"}},
		{"random:1048577", false, []string{"above 1048576"}},
		{"random:8:1048577", false, []string{"above 1048576"}},
		{"random:99999999999999999999", false, []string{"above 1048576"}},
	}
	for _, tt := range tests {
		t.Run(tt.level, func(t *testing.T) {
			t.Parallel()
			_, err := workload.Resolve(tt.level, sets, dir)
			if err == nil {
				t.Fatalf("Resolve(%q) succeeded, want an error", tt.level)
			}
			if errors.Is(err, workload.ErrNotFound) != tt.notFound {
				t.Errorf("Resolve(%q) = %v; errors.Is(ErrNotFound) = %v, want %v",
					tt.level, err, !tt.notFound, tt.notFound)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Resolve(%q) error = %q, want it to contain %q", tt.level, err, w)
				}
			}
		})
	}
}
