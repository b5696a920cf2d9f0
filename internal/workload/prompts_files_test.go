package workload_test

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/llmscale/llmscale/internal/tokens"
	"github.com/llmscale/llmscale/internal/workload"
)

// configDir holds the project's prompt files; testdataDir its shared test data.
const (
	configDir   = "../../config"
	testdataDir = "../../testdata"
)

// TestPromptFiles checks that the shipped prompt sets hold what their names promise: short
// prompts of tens of tokens, medium ones of hundreds, long ones of a couple of thousand.
func TestPromptFiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		set            string
		minN, maxN     int // how many prompts
		minTok, maxTok int // bounds on every prompt's tokens.Count, so on min, median and max
	}{
		{set: "short", minN: 50, maxN: 80, minTok: 15, maxTok: 60},
		{set: "medium", minN: 25, maxN: 40, minTok: 200, maxTok: 600},
		{set: "long", minN: 8, maxN: 15, minTok: 1500, maxTok: 2500},
	}
	seen := make(map[string]string) // prompt → set, across all files
	for _, tt := range tests {
		prompts := loadSet(t, tt.set)
		if n := len(prompts); n < tt.minN || n > tt.maxN {
			t.Errorf("%s: %d prompts, want %d to %d", tt.set, n, tt.minN, tt.maxN)
		}
		counts := make([]int, len(prompts))
		for i, p := range prompts {
			counts[i] = p.Tokens
			checkFilePrompt(t, tt.set, i, p)
			if prev, dup := seen[p.Text]; dup {
				t.Errorf("%s prompt %d is also in %s: %.60q", tt.set, i, prev, p.Text)
			}
			seen[p.Text] = tt.set
		}
		slices.Sort(counts)
		lo, med, hi := counts[0], counts[len(counts)/2], counts[len(counts)-1]
		t.Logf("%s: %d prompts, tokens min %d, median %d, max %d", tt.set, len(prompts), lo, med, hi)
		for _, c := range []struct {
			what string
			n    int
		}{{"min", lo}, {"median", med}, {"max", hi}} {
			if c.n < tt.minTok || c.n > tt.maxTok {
				t.Errorf("%s: %s tokens = %d, want %d to %d", tt.set, c.what, c.n, tt.minTok, tt.maxTok)
			}
		}
	}
}

func loadSet(t *testing.T, set string) []workload.Prompt {
	t.Helper()
	src, err := workload.Resolve(set, nil, configDir)
	if err != nil {
		t.Fatalf("Resolve(%q): %v", set, err)
	}
	if src.Kind != workload.KindText || src.Name != set {
		t.Fatalf("Resolve(%q) = %+v, want a text source named %q", set, src, set)
	}
	prompts, err := workload.Load(src, nil, workload.Options{})
	if err != nil {
		t.Fatalf("Load(%s): %v", src.Path, err)
	}
	return prompts
}

// checkFilePrompt catches what a broken file format would leak into a prompt: the header
// comment, a separator, stray white space or carriage returns.
func checkFilePrompt(t *testing.T, set string, i int, p workload.Prompt) {
	t.Helper()
	if p.Tokens != tokens.Count(p.Text) || p.TokenIDs != nil || p.MaxTokens != 0 {
		t.Errorf("%s prompt %d: Tokens %d, MaxTokens %d, TokenIDs %v; want Tokens %d and no others",
			set, i, p.Tokens, p.MaxTokens, p.TokenIDs, tokens.Count(p.Text))
	}
	if strings.HasPrefix(p.Text, "#") || p.Text != strings.TrimSpace(p.Text) ||
		strings.Contains(p.Text, "\r") || strings.Contains(p.Text, "\n---\n") {
		t.Errorf("%s prompt %d is malformed: %.80q", set, i, p.Text)
	}
	if set == "short" && strings.Contains(p.Text, "\n") {
		t.Errorf("short prompt %d spans lines: %q", i, p.Text)
	}
}

// TestShareGPTFile loads testdata/sharegpt_small.json through a prompt_sets entry and checks
// every prompt against the conversation it came from, decoded here independently.
func TestShareGPTFile(t *testing.T) {
	t.Parallel()
	sets := map[string]string{"chat": filepath.Join("..", "testdata", "sharegpt_small.json")}
	src, err := workload.Resolve("chat", sets, configDir)
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if src.Kind != workload.KindShareGPT || src.Name != "chat" {
		t.Fatalf("Resolve = %+v, want a sharegpt source named chat", src)
	}
	prompts, err := workload.Load(src, rand.New(rand.NewPCG(1, 2)), workload.Options{})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := expectedShareGPT(t, filepath.Join(testdataDir, "sharegpt_small.json"))
	const kept = 19 // 20 conversations, one of which ("hi" / "Hello!") is too short
	if len(prompts) != kept || len(want) != kept {
		t.Fatalf("got %d prompts (independent decode: %d), want %d", len(prompts), len(want), kept)
	}
	for i, p := range prompts {
		if p.Text != want[i].Text || p.MaxTokens != want[i].MaxTokens || p.Tokens != want[i].Tokens {
			t.Errorf("prompt %d = {%.40q, Tokens %d, MaxTokens %d}, want {%.40q, %d, %d}",
				i, p.Text, p.Tokens, p.MaxTokens, want[i].Text, want[i].Tokens, want[i].MaxTokens)
		}
	}
	// The one conversation in {"role","content"} messages starts with a system turn.
	const screws = "Which screws should I use to hang a heavy mirror on a plasterboard wall?"
	if !slices.ContainsFunc(prompts, func(p workload.Prompt) bool { return p.Text == screws }) {
		t.Errorf("the messages-shaped conversation is missing: no prompt %q", screws)
	}
}

// expectedShareGPT decodes the file loosely and applies the documented rule: the first user
// turn is the prompt, the next turn the reply, both at least MinShareGPTTokens long.
func expectedShareGPT(t *testing.T, path string) []workload.Prompt {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var entries []struct {
		Conversations, Messages []map[string]string
	}
	if err := json.Unmarshal(data, &entries); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []workload.Prompt
	for _, e := range entries {
		turns := append(e.Conversations, e.Messages...)
		for i := 0; i+1 < len(turns); i++ {
			if who := turns[i]["from"] + turns[i]["role"]; who != "human" && who != "user" {
				continue
			}
			in := tokens.Count(turns[i]["value"] + turns[i]["content"])
			reply := tokens.Count(turns[i+1]["value"] + turns[i+1]["content"])
			if in >= workload.MinShareGPTTokens && reply >= workload.MinShareGPTTokens {
				out = append(out, workload.Prompt{
					Text: turns[i]["value"] + turns[i]["content"], Tokens: in, MaxTokens: reply})
			}
			break
		}
	}
	return out
}
