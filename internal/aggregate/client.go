package aggregate

import (
	"fmt"
	"path/filepath"

	"github.com/llmscale/llmscale/internal/results"
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
		r.HostCPUUtil = maxOf(r.HostCPUUtil, doc.HostCPUUtil)
		r.HostSteal = maxOf(r.HostSteal, doc.HostSteal)
	}
	return nil
}

// maxOf is the larger of two nullable values; null only when both are.
func maxOf(a, b *float64) *float64 {
	switch {
	case a == nil:
		return b
	case b == nil || *a >= *b:
		return a
	}
	return b
}
