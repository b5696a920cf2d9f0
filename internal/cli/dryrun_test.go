package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/llmscale/llmscale/internal/results"
)

// TestRunDryRunGolden: `run --dry-run` prints each server's command lines and each
// experiment's load command, skips experiments already done, and writes nothing.
func TestRunDryRunGolden(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "m.yaml"), "campaign: dry\nengine: sim\nfactors:\n  dp: [1, 2]\n  users: [1, 4]\n  prompts: ['random:8:4']\n")
	r := run(t, dir, nil, "run", "-m", "m.yaml", "--dry-run")
	if r.code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	golden(t, "run_dryrun.golden", r.stdout)
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 1 {
		t.Errorf("--dry-run wrote files: %v %v", entries, err)
	}

	// An experiment already done is not shown again; --force shows it.
	done := results.Dir(filepath.Join(dir, "results"), "dry_G1_TP1_DP1_U1_rand8x4_O4")
	if err := results.WriteExperiment(done, results.Experiment{ID: "dry_G1_TP1_DP1_U1_rand8x4_O4", Status: results.StatusDone}); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(done, "requests.parquet"), "x")
	r = run(t, dir, nil, "run", "-m", "m.yaml", "--dry-run")
	if r.code != ExitOK || strings.Contains(r.stdout, "# dry_G1_TP1_DP1_U1_") || strings.Count(r.stdout, "llmscale load") != 3 {
		t.Errorf("dry run after one experiment is done: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = run(t, dir, nil, "run", "-m", "m.yaml", "--dry-run", "--force")
	if r.code != ExitOK || strings.Count(r.stdout, "llmscale load") != 4 {
		t.Errorf("forced dry run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
