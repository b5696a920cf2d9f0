package cli

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/llmscale/llmscale/internal/results"
)

// TestResultsAreProtected runs one small campaign on the simulator, then tries the ways a
// finished result used to be lost: a campaign of another name into the same folder, an edited
// matrix, a damaged experiment.json, a temp file left by a killed writer. Each is refused or
// handled, and the finished data stays byte for byte.
func TestResultsAreProtected(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	model := uniqueModel(t)
	path := filepath.Join(dir, "m.yaml")
	write(t, path, `campaign: t
engine: sim
model: `+model+`
factors: {users: [2], prompts: ["random:32:8"], max_tokens: [8]}
load: {run_time: 600ms, warmup: 0s, cooldown: 0s, grace: 2s}
server: {startup_timeout: 20s, stop_grace: 2s, sim: {speedup: 8}}
`)
	run := func(args ...string) result {
		return runInProcess(t, dir, append([]string{"run", "-m", "m.yaml", "--results", "res", "--no-analysis"}, args...)...)
	}
	if r := run(); r.code != ExitOK {
		t.Fatalf("first run: exit %d\n%s", r.code, r.stderr)
	}
	defer noneLeft(t, model)
	root := filepath.Join(dir, "res")
	id := "t_G1_TP1_DP1_U2_rand32x8_O8"
	data := filepath.Join(results.Dir(root, id), "requests.parquet")
	keep := read(t, data)
	index := read(t, filepath.Join(root, results.CampaignFile))

	// Another campaign into the same folder is refused; nothing changes.
	r := run("--set", "campaign=other")
	if r.code != ExitUsage || !strings.Contains(r.stderr, `holds campaign "t", not "other"`) || !strings.Contains(r.stderr, "hint: give this campaign its own folder") {
		t.Errorf("other campaign: exit %d, want %d\n%s", r.code, ExitUsage, r.stderr)
	}
	// An edited matrix is refused unless --matrix-changed says it is meant.
	write(t, path, string(read(t, path))+"# edited\n")
	if r := run(); r.code != ExitUsage || !strings.Contains(r.stderr, "is another version") {
		t.Errorf("edited matrix: exit %d, want %d\n%s", r.code, ExitUsage, r.stderr)
	}
	if got := read(t, filepath.Join(root, results.CampaignFile)); !bytes.Equal(got, index) {
		t.Error("a refused run rewrote campaign.json")
	}
	if r := run("--matrix-changed"); r.code != ExitOK || !strings.Contains(r.stderr, "already done") {
		t.Errorf("--matrix-changed: exit %d\n%s", r.code, r.stderr)
	}

	// A damaged experiment.json: the folder is set aside with its data, and the experiment runs again.
	write(t, filepath.Join(results.Dir(root, id), results.ExperimentFile), "garbage{")
	if r := run("--matrix-changed"); r.code != ExitOK || !strings.Contains(r.stderr, "could not be read") {
		t.Fatalf("damaged experiment.json: exit %d\n%s", r.code, r.stderr)
	}
	aside, _ := filepath.Glob(filepath.Join(root, "aside", id+"-*"))
	if len(aside) != 1 {
		t.Fatalf("aside: %v, want one folder", aside)
	}
	if got := read(t, filepath.Join(aside[0], "requests.parquet")); !bytes.Equal(got, keep) {
		t.Error("the set-aside requests.parquet differs from the finished one")
	}
	if note := string(read(t, filepath.Join(aside[0], "SET-ASIDE.txt"))); !strings.Contains(note, "could not be read") {
		t.Errorf("note: %q", note)
	}
	if st := statuses(t, root); st[id] != results.StatusDone {
		t.Errorf("re-run experiment: %v", st)
	}

	// A temp file of a writer that was killed is removed by the next command; one of a live
	// writer stays.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Skip("no `true` to make a dead pid:", err)
	}
	host := results.NewTempCleaner().Host
	left := filepath.Join(root, "figs", ".speedup.svg.tmp-"+host+"-"+strconv.Itoa(dead.Process.Pid)+"-1")
	live := filepath.Join(root, "figs", ".gpu.svg.tmp-"+host+"-"+strconv.Itoa(os.Getpid())+"-1")
	if err := os.MkdirAll(filepath.Dir(left), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, left, "half")
	write(t, live, "half")
	if r := runInProcess(t, dir, "aggregate", "--results", "res"); !strings.Contains(r.stderr, "removed 1 temporary file of interrupted writes") {
		t.Errorf("aggregate: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(left); !os.IsNotExist(err) {
		t.Errorf("%s is still there (%v)", left, err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("a live writer's temp file was removed: %v", err)
	}
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
