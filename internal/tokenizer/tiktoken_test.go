package tokenizer

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// referenceFixtures makes the rank files and js-tiktoken's encodings with
// scripts/tokenizer-fixtures/gen.mjs.
func referenceFixtures(t *testing.T) string {
	t.Helper()
	return npmFixtures(t, "gen.mjs", "js-tiktoken")
}

// npmFixtures runs a script of scripts/tokenizer-fixtures into a temporary folder and returns
// it. It needs node and `npm install` in that folder (the packages modules); the test skips
// without them unless CI is set.
func npmFixtures(t *testing.T, script string, modules ...string) string {
	t.Helper()
	folder, _ := filepath.Abs("../../scripts/tokenizer-fixtures")
	_, err := exec.LookPath("node")
	for _, m := range modules {
		if err == nil {
			_, err = os.Stat(filepath.Join(folder, "node_modules", m))
		}
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI: the reference encoder is missing (%v): run npm install in %s", err, folder)
		}
		t.Skipf("no node or %v (npm install in %s): reference encodings not made", modules, folder)
	}
	dir := t.TempDir()
	cmd := exec.Command("node", script, dir)
	cmd.Dir = folder
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	return dir
}

// TestTiktokenMatchesReference: every text encodes to js-tiktoken's ids, for GPT-2, cl100k and
// o200k (whitespace runs, contractions, numbers, CJK, emoji, NBSP and em spaces included).
func TestTiktokenMatchesReference(t *testing.T) {
	t.Parallel()
	dir := referenceFixtures(t)
	var expected map[string][]struct {
		Text string `json:"text"`
		IDs  []int  `json:"ids"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &expected); err != nil {
		t.Fatal(err)
	}
	for name, cases := range expected {
		tok, err := Load(filepath.Join(dir, name+".tiktoken"))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			if got := tok.Encode(c.Text); !slices.Equal(got, c.IDs) {
				t.Errorf("%s: Encode(%q) = %v, want %v", name, c.Text, got, c.IDs)
			}
		}
	}
}
