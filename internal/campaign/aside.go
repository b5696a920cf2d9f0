package campaign

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/llmscale/llmscale/internal/matrix"
	"github.com/llmscale/llmscale/internal/results"
)

// AsideDir is the folder under the results tree where experiments whose experiment.json
// cannot be read are moved before they run again, so their data files are never replaced.
const AsideDir = "aside"

// setAside moves the folder of every experiment about to run whose experiment.json exists
// but cannot be read to results/aside/<exp_id>-<time>/, with a note saying why; the
// experiment then runs afresh. It returns the folders it moved.
func setAside(root string, todo []matrix.Experiment, now time.Time) ([]string, error) {
	var moved []string
	for _, e := range todo {
		dir := results.Dir(root, e.ID)
		_, readErr := results.ReadExperiment(dir)
		if readErr == nil || errors.Is(readErr, os.ErrNotExist) {
			continue
		}
		to := filepath.Join(root, AsideDir, e.ID+"-"+now.UTC().Format("20060102T150405Z"))
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return moved, fmt.Errorf("set aside %s: %w", dir, err)
		}
		if err := os.Rename(dir, to); err != nil {
			return moved, fmt.Errorf("set aside %s (its experiment.json cannot be read: %v): %w", dir, readErr, err)
		}
		note := fmt.Sprintf("llmscale moved this experiment here on %s: its experiment.json could not be read (%v),\n"+
			"so the experiment ran again in %s. Its data files are kept as they were.\n", now.UTC().Format(time.RFC3339), readErr, dir)
		_ = os.WriteFile(filepath.Join(to, "SET-ASIDE.txt"), []byte(note), 0o644)
		moved = append(moved, to)
	}
	return moved, nil
}
