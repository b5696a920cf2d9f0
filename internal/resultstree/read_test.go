package resultstree

import (
	"path/filepath"
	"testing"

	"github.com/llmscale/llmscale/internal/analysis"
)

// TestReadNoTree: a results folder that does not exist is the one error.
func TestReadNoTree(t *testing.T) {
	t.Parallel()
	if _, err := Read(filepath.Join(t.TempDir(), "none"), analysis.Result{}, Options{}); err == nil {
		t.Error("no error for a missing results folder")
	}
}
