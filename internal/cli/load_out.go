package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/llmscale/llmscale/internal/campaign"
	"github.com/llmscale/llmscale/internal/loadgen"
	"github.com/llmscale/llmscale/internal/results"
)

// claimOut makes sure load writes over no result in out: it refuses when out already holds
// one, unless --force, which removes the old result first (all of it: a run with fewer workers
// must not leave the other workers' files beside its own). One worker of several checks only
// the files it writes itself; the command that started the workers checked the folder.
func claimOut(out string, f loadFlags, workers int, oneWorker bool) error {
	patterns := []string{"requests*.parquet", "summary*.json", "load.json", "load-[0-9]*.json", campaign.WorkerLoadFile}
	if oneWorker {
		cfg := loadgen.Config{WorkerID: f.worker}
		cfg.WorkerCount = workers
		patterns = []string{results.RequestsFile(f.worker, workers), loadgen.SummaryFile(f.worker, workers), workerFile("load", cfg)}
	}
	var found []string
	for _, p := range patterns {
		m, err := filepath.Glob(filepath.Join(out, p))
		if err != nil {
			return withCode(fmt.Errorf("--out %s: %w", out, err), ExitUsage)
		}
		found = append(found, m...)
	}
	if len(found) == 0 {
		return nil
	}
	if !f.force {
		return withHint(withCode(fmt.Errorf("--out %s already holds a result (%s): load does not write over one",
			out, filepath.Base(found[0])), ExitUsage),
			"give another --out (the default is a new results/load-<timestamp> folder), or --force to replace it")
	}
	if oneWorker {
		return nil // each file is replaced atomically when the worker writes it
	}
	var errs []error
	for _, p := range found {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return withCode(fmt.Errorf("--force: removing the old result in %s: %w", out, err), ExitFailed)
	}
	return nil
}
