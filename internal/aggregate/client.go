package aggregate

import (
	"fmt"
	"path/filepath"

	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/stats"
)

// fillClientSummaries reads the load workers' summaries once — summary-<k>.json of each worker (a
// campaign with several workers, `llmscale load --workers`), else the one summary.json
// (`llmscale load`) — and fills the client's CPU use and its host's figures from them.
func fillClientSummaries(r *Row, dir string, _ results.Experiment) error {
	paths, _ := filepath.Glob(filepath.Join(dir, "summary-*.json"))
	if len(paths) == 0 {
		paths, _ = filepath.Glob(filepath.Join(dir, "summary.json"))
	}
	docs := make([]results.LoadSummary, 0, len(paths))
	for _, p := range paths {
		doc, err := results.ReadLoadSummary(p)
		if err != nil {
			return fmt.Errorf("%s unreadable: %w", filepath.Base(p), err)
		}
		docs = append(docs, doc)
	}
	addClientCPU(r, docs)
	addClientHost(r, docs)
	return nil
}

// addClientCPU: the cores each worker kept busy and could use, summed, and the highest share
// of its cores any one worker kept busy. Summaries without the figures leave the columns null.
func addClientCPU(r *Row, docs []results.LoadSummary) {
	busy, cores, worst, found := 0.0, 0.0, nan(), false
	for _, doc := range docs {
		if doc.ClientCoresBusy == nil {
			continue
		}
		busy, found = busy+*doc.ClientCoresBusy, true
		if doc.ClientCores != nil && *doc.ClientCores > 0 {
			cores += float64(*doc.ClientCores)
			if f := *doc.ClientCoresBusy / float64(*doc.ClientCores); !(f <= worst) {
				worst = f
			}
		}
	}
	if found {
		r.ClientCPUCores = F(busy)
	}
	if cores > 0 {
		r.ClientCores, r.ClientCPUMaxFraction = F(cores), F(worst)
	}
}

// addClientHost: the client's failures on its own limits summed, host utilisation and steal
// the highest of any worker (the most contended machine is the one that limits). Summaries
// without a figure leave its column null: older summaries did not record them.
func addClientHost(r *Row, docs []results.LoadSummary) {
	for _, doc := range docs {
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
}
