package report

import (
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/llmscale/llmscale/internal/analysis"
	"github.com/llmscale/llmscale/internal/reportdata"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/resultstree"
)

// The tests of whole trees (resultstree.Read, then the page and the figures) run real
// campaigns on the simulator with an llmscale binary built once per test process (the
// report package cannot import the command line, which imports it).

var regenerateTree = flag.Bool("regenerate-tree", false,
	"run the small simulator campaign of testdata/report/tree again and replace the tree (then -update the golden file)")

// treeDir is a results tree made by a real simulator campaign (treeMatrix, after
// treeFailMatrix), kept in the repository so the golden test reads fixed files.
const treeDir = testdataDir + "/tree"

// binDir holds the llmscale binary the tests build.
var binDir string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "llmscale-report-test-")
	if err != nil {
		panic(err)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var (
	buildOnce sync.Once
	buildErr  error
	buildOut  []byte
)

// llmscaleBinary builds cmd/llmscale once into binDir.
func llmscaleBinary(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go tool to build llmscale with")
	}
	bin := filepath.Join(binDir, "llmscale")
	buildOnce.Do(func() {
		buildOut, buildErr = exec.Command("go", "build", "-o", bin, "github.com/llmscale/llmscale/cmd/llmscale").CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("build llmscale: %v\n%s", buildErr, buildOut)
	}
	return bin
}

// runCampaign writes matrix to dir/name and runs `llmscale run` on it into dir/results,
// without the analysis; a campaign with failed experiments is fine.
func runCampaign(t *testing.T, dir, name, matrix string) {
	t.Helper()
	bin := llmscaleBinary(t)
	if err := os.WriteFile(filepath.Join(dir, name), []byte(matrix), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "run", "--matrix", name, "--results", "results", "--no-analysis")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); err != nil && code != 1 { // 1: some experiments failed
		t.Fatalf("llmscale run %s: %v\n%s", name, err, out)
	}
}

// liveMatrix is the campaign TestTreeCampaign runs: DP 1 → 2 at 2 and 16 users (the
// batch cap is 8 per rank), 1.5-second windows.
const liveMatrix = `campaign: live
engine: sim
model: live-model
api: completions
factors:
  tp: [1]
  dp: [1, 2]
  users: [2, 16]
  prompts: ["random:64:16"]
  max_tokens: [16]
  batch_size: [8]
load: {spawn_rate: 0, run_time: 1500ms, warmup: 500ms, cooldown: 200ms, seed: 7}
server:
  startup_timeout: 20s
  sim: {speedup: 4}
telemetry: {interval: 250ms, gpu: none} # the simulator's own GPU activity is left out: the test adds some
`

// treeMatrix made testdata/report/tree: TP-only and DP-only 1 → 2 at 2 and 16 users.
const treeMatrix = `campaign: tree
engine: sim
model: tree-model
api: completions
factors:
  tp: [1, 2]
  dp: [1, 2]
  users: [2, 16]
  prompts: ["random:64:16"]
  max_tokens: [16]
  batch_size: [8]
rules:
  exclude:
    - {tp: 2, dp: 2}
load: {spawn_rate: 0, run_time: 1500ms, warmup: 500ms, cooldown: 200ms, seed: 7}
slo: {ttft: 200ms}
server:
  startup_timeout: 20s
  sim: {speedup: 4, interconnect: pcie}
telemetry: {interval: 250ms}
`

// treeFailMatrix ran first into the same tree: one experiment whose server never starts.
const treeFailMatrix = `campaign: tree
engine: sim
model: tree-model
api: completions
factors:
  users: [2]
  prompts: ["random:64:16"]
  max_tokens: [16]
  batch_size: [8]
  server_args: {"--fault-slow-start": ["1h"]}
load: {spawn_rate: 0, run_time: 1500ms, warmup: 500ms, cooldown: 200ms, seed: 7}
server:
  startup_timeout: 1s
  sim: {speedup: 4}
`

// makeTree runs the tree's campaigns into a temporary folder, keeps only the files the report
// reads, writes the binary's path as "llmscale", and replaces testdata/report/tree.
func makeTree(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	runCampaign(t, dir, "fail.yaml", treeFailMatrix)
	runCampaign(t, dir, "m.yaml", treeMatrix)
	src := filepath.Join(dir, "results")
	if err := os.RemoveAll(treeDir); err != nil {
		t.Fatal(err)
	}
	keep := func(rel string) bool {
		base := filepath.Base(rel)
		return rel == results.CampaignFile || rel == results.TopologyFile ||
			(strings.HasPrefix(rel, results.RawDir+string(filepath.Separator)) && base != results.ServerLogFile)
	}
	err := filepath.WalkDir(src, func(path string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if !keep(rel) {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.HasSuffix(path, ".json") { // no machine paths: the binary's, the temporary folder's
			text := strings.ReplaceAll(string(b), filepath.Join(binDir, "llmscale"), "llmscale")
			b = []byte(strings.ReplaceAll(text, dir+string(filepath.Separator), ""))
		}
		dst := filepath.Join(treeDir, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// buildFrom runs the analysis of a results tree (writing its files to a temporary folder)
// and builds the report's data; problems resultstree.Read reports are returned as text.
func buildFrom(t *testing.T, root string) (reportdata.Data, string) {
	t.Helper()
	res, err := analysis.Run(analysis.Options{Results: root, Out: t.TempDir()})
	if err != nil && res.Rows == nil {
		t.Fatalf("analysis of %s: %v", root, err)
	}
	var log strings.Builder
	d, err := resultstree.Read(root, res, resultstree.Options{Log: &log})
	if err != nil {
		t.Fatalf("resultstree.Read(%s): %v", root, err)
	}
	return d, log.String()
}
