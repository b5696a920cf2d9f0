package report

import (
	"io"
	"path/filepath"

	"github.com/llmscale/llmscale/internal/report/figures"
	"github.com/llmscale/llmscale/internal/reportdata"
	"github.com/llmscale/llmscale/internal/results"
)

// ReportFile is the HTML report's name in a results tree.
const ReportFile = "report.html"

// Write writes the report of d into a results tree: resultsDir/report.html and the static
// figures under resultsDir/figs/. Every file is written atomically (a reader never sees half a
// file); figures of series no longer in d are left in place.
func Write(resultsDir string, d reportdata.Data, opts Options) error {
	if err := figures.Write(filepath.Join(resultsDir, results.FigsDir), d, figures.DPI); err != nil {
		return err
	}
	return results.WriteAtomic(filepath.Join(resultsDir, ReportFile), func(w io.Writer) error {
		return Render(w, d, opts)
	})
}
