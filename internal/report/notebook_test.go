package report

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// The notebook (analysis/notebook.ipynb) is for people who want one; these tests keep it
// stored without outputs and, where Jupyter, pandas and matplotlib are installed (Debian:
// jupyter-nbconvert python3-pandas python3-matplotlib python3-ipykernel), run it on the CSV
// fixture in testdata/report/agg (made from fixture.json).

const notebookPath = "../../analysis/notebook.ipynb"

type notebook struct {
	NBFormat int `json:"nbformat"`
	Cells    []struct {
		CellType       string          `json:"cell_type"`
		ExecutionCount *int            `json:"execution_count"`
		Outputs        json.RawMessage `json:"outputs"`
		Source         json.RawMessage `json:"source"`
	} `json:"cells"`
}

func TestNotebookStoredWithoutOutputs(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(notebookPath)
	if err != nil {
		t.Fatal(err)
	}
	var nb notebook
	if err := json.Unmarshal(b, &nb); err != nil {
		t.Fatalf("notebook is not valid JSON: %v", err)
	}
	if nb.NBFormat != 4 {
		t.Errorf("nbformat %d, want 4", nb.NBFormat)
	}
	code := 0
	for i, c := range nb.Cells {
		if c.CellType != "code" {
			continue
		}
		code++
		if c.ExecutionCount != nil || (len(c.Outputs) > 0 && string(c.Outputs) != "[]") {
			t.Errorf("cell %d is stored with outputs (clear them before committing)", i)
		}
	}
	if code < 5 {
		t.Errorf("notebook has %d code cells, want the reading cells and four figures", code)
	}
}

func TestNotebookRuns(t *testing.T) {
	t.Parallel()
	jupyter, err := exec.LookPath("jupyter")
	if err != nil {
		t.Skip("notebook not run: jupyter is not installed (Debian: apt-get install jupyter-nbconvert python3-ipykernel python3-pandas python3-matplotlib)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	out := t.TempDir()
	results, err := filepath.Abs("../../testdata/report")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, jupyter, "nbconvert", "--to", "notebook", "--execute",
		"--ExecutePreprocessor.timeout=180", "--output-dir", out, notebookPath)
	cmd.Env = append(os.Environ(), "LLMSCALE_RESULTS="+results, "LLMSCALE_FIGS="+filepath.Join(out, "figs"),
		"MPLBACKEND=Agg", "PYDEVD_DISABLE_FILE_VALIDATION=1")
	cmd.WaitDelay = 10 * time.Second
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("jupyter nbconvert --execute: %v\n%s", err, tail(string(b), 4000))
	}
	for _, f := range []string{"throughput_vs_gpus.png", "efficiency_karp_flatt.png", "latency_cdf_1.png", "load_curves.png"} {
		checkPNGSize(t, filepath.Join(out, "figs", f), 400, 300)
	}
}
