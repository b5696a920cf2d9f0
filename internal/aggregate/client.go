package aggregate

import (
	"fmt"
	"path/filepath"

	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/stats"
)

// fillClientHost reads the client's failures on its own limits and its machine's CPU from the
// load workers' summaries (as fillClientCPU finds them): failures summed, host utilisation and
// steal the highest of any worker (the most contended machine is the one that limits). Files
// without a figure leave its column null: older summaries did not record them.
func fillClientHost(r *Row, dir string, _ results.Experiment) error {
	paths, _ := filepath.Glob(filepath.Join(dir, "summary-*.json"))
	if len(paths) == 0 {
		paths, _ = filepath.Glob(filepath.Join(dir, "summary.json"))
	}
	for _, p := range paths {
		doc, err := results.ReadLoadSummary(p)
		if err != nil {
			return fmt.Errorf("%s unreadable: %w", filepath.Base(p), err)
		}
		if doc.ClientFailures != nil {
			n := float64(*doc.ClientFailures)
			if r.ClientFailures != nil {
				n += *r.ClientFailures
			}
			r.ClientFailures = &n
		}
		r.HostCPUUtil = stats.MaxOpt(r.HostCPUUtil, doc.HostCPUUtil)
		r.HostSteal = stats.MaxOpt(r.HostSteal, doc.HostSteal)
	}
	return nil
}
