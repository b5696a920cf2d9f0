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
// scripts/tokenizer-fixtures/gen.mjs. It needs node and `npm install` run in that folder; the
// test skips without them unless CI is set.
func referenceFixtures(t *testing.T) string {
	t.Helper()
	script, _ := filepath.Abs("../../scripts/tokenizer-fixtures")
	_, errNode := exec.LookPath("node")
	_, errMod := os.Stat(filepath.Join(script, "node_modules", "js-tiktoken"))
	if errNode != nil || errMod != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI: the reference tokenizer is missing (node: %v; js-tiktoken: %v): run npm install in %s", errNode, errMod, script)
		}
		t.Skipf("no node or js-tiktoken (npm install in %s): reference encodings not made", script)
	}
	dir := t.TempDir()
	cmd := exec.Command("node", "gen.mjs", dir)
	cmd.Dir = script
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gen.mjs: %v\n%s", err, out)
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
