package aggregate

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/llmscale/llmscale/internal/promscrape"
	"github.com/llmscale/llmscale/internal/results"
)

// metricSimInfo is the simulator's info gauge (llmscale:sim_info).
const metricSimInfo = "llmscale:sim_info"

// fillServer summarises the server's /metrics over the window. Several replica files are
// merged into one window: each replica's engines are renamed r<k>/<engine> so that counters
// and histograms add up over every engine of every replica and gauges sum per grid scrape.
func fillServer(r *Row, dir string, e results.Experiment) error {
	defer fillCaps(r, e)
	paths := results.ServerMetricsFiles(dir)
	r.ServerMetricsFiles = int64(len(paths))
	if len(paths) == 0 {
		return nil
	}
	var all []results.ServerMetric
	for i, p := range paths {
		rows, err := results.ReadServerMetricSeries(p)
		if err != nil {
			return fmt.Errorf("%s unreadable: %w", filepath.Base(p), err)
		}
		if len(paths) > 1 {
			relabel(rows, i)
		}
		all = append(all, rows...)
	}
	if info := simInfo(all); info != nil {
		r.SimInfo = formatLabels(info)
		if ic := info["interconnect"]; ic != "" {
			r.Interconnect = ic
		}
	}
	fillServerSummary(r, promscrape.Summarize(all))
	return nil
}

// relabel gives the engines of replica k their own names, so the series of several replicas
// stay apart in one window. Rows of the same labels share the relabelled labels and map.
func relabel(rows []results.ServerMetric, k int) {
	type labelled struct {
		labels string
		m      map[string]string
	}
	done := map[string]labelled{}
	for i := range rows {
		// every row, llmscale's own scrape series included: they tell each replica's grid
		l, ok := done[rows[i].Labels]
		if !ok {
			l = labelled{labels: fmt.Sprintf("replica=\"%d\",%s", k, rows[i].Labels), m: relabelMap(rows[i].LabelMap, k)}
			done[rows[i].Labels] = l
		}
		rows[i].Labels, rows[i].LabelMap = l.labels, l.m
	}
}

func relabelMap(m map[string]string, k int) map[string]string {
	if m == nil {
		return nil
	}
	c := maps.Clone(m)
	if e, ok := c[promscrape.LabelEngine]; ok {
		c[promscrape.LabelEngine] = fmt.Sprintf("r%d/%s", k, e)
	}
	return c
}

// simInfo returns the labels of the simulator's info gauge, nil when the server is not one.
func simInfo(rows []results.ServerMetric) map[string]string {
	for i := range rows {
		if rows[i].Name == metricSimInfo {
			return rows[i].LabelMap
		}
	}
	return nil
}

// formatLabels writes labels as "k=v;…", sorted, without model_name.
func formatLabels(m map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if k != promscrape.LabelModelName {
			parts = append(parts, k+"="+m[k])
		}
	}
	return strings.Join(parts, ";")
}

func fillServerSummary(r *Row, s promscrape.Summary) {
	r.Scrapes, r.FailedScrapes, r.MetricsExact, r.ServerRestarts = int64(s.Scrapes), int64(s.FailedScrapes), s.Exact, int64(s.Restarts)
	r.RunningMean, r.RunningMax = F(s.Running.Mean), F(s.Running.Max)
	r.WaitingMean, r.WaitingMax = F(s.Waiting.Mean), F(s.Waiting.Max)
	r.KVCacheUsageMean, r.KVCacheUsageMax, r.KVCacheUsageMaxEngine = F(s.KVCacheUsage.Mean), F(s.KVCacheUsage.Max), F(s.KVCacheUsageMax)
	r.Preemptions, r.PromptTokensDelta, r.GenerationTokensDelta = F(s.Preemptions), F(s.PromptTokens), F(s.GenerationTokens)
	r.RequestsFinishedDelta = F(s.RequestsFinished)
	r.PreemptionsPerRequest = ratio(s.Preemptions, s.RequestsFinished)
	r.QueueSMean, r.PrefillSMean, r.DecodeSMean = F(s.MeanQueueS), F(s.MeanPrefillS), F(s.MeanDecodeS)
	r.InferenceSMean, r.ServerE2ESMean = F(s.MeanInferenceS), F(s.MeanE2ES)
	r.ServerTTFTSMean, r.ServerITLSMean = F(s.MeanTTFTS), F(s.MeanITLS)
	r.IterationTokensMean, r.EngineSteps = F(s.MeanIterTokens), F(s.EngineIterations)
	r.ServerMetricsEngine = strings.Join(s.Families, ";")
	missing := make([]string, len(s.Missing))
	for i, q := range s.Missing {
		missing[i] = string(q)
	}
	r.ServerEvidenceMissing = strings.Join(missing, ";")
	c := s.Config
	r.Engines = int64(c.Engines)
	r.MaxNumSeqs, r.MaxNumBatchedTokens = int64(c.MaxNumSeqs), int64(c.MaxNumBatchedTokens)
	r.NumGPUBlocksTotal = int64(c.NumGPUBlocks * max(c.Engines, 1))
	r.KVCacheTokensTotal = r.NumGPUBlocksTotal * int64(c.BlockSize)
}

// Where the batch caps of a row come from (batch_cap_source).
const (
	CapFromMetrics    = "metrics"         // vllm:scheduler_config_info (llmscale's simulator)
	CapFromExperiment = "experiment.json" // settings the server reported, recorded by the campaign
	CapFromRequested  = "requested"       // the --max-num-seqs the campaign asked for
)

// fillCaps fills the batch caps the server did not export from what experiment.json knows:
// the effective settings the campaign recorded, else the requested flags.
func fillCaps(r *Row, e results.Experiment) {
	if r.Engines == 0 {
		r.Engines = r.DP
	}
	eff := e.Server.Effective
	if r.MaxNumSeqs > 0 {
		r.BatchCapSource = CapFromMetrics
	} else if n := effectiveCap(eff); n > 0 {
		r.MaxNumSeqs, r.BatchCapSource = int64(n), CapFromExperiment
	} else if e.Server.BatchSize > 0 {
		r.MaxNumSeqs, r.BatchCapSource = int64(e.Server.BatchSize), CapFromRequested
	}
	// the server said it (its metrics, or the settings it reported): a cap only requested
	// (engine external, or an engine that does not report it) is not verified
	r.BatchCapVerified = r.BatchCapSource == CapFromMetrics || r.BatchCapSource == CapFromExperiment
	if r.MaxNumBatchedTokens == 0 {
		if n := atoi(eff["max_num_batched_tokens"]); n > 0 {
			r.MaxNumBatchedTokens = int64(n)
		} else if e.Server.MBT > 0 {
			r.MaxNumBatchedTokens = int64(e.Server.MBT)
		}
	}
	if r.MaxNumSeqs > 0 {
		r.BatchCapTotal = r.MaxNumSeqs * max(r.Engines, 1)
	}
}

// effectiveCap is the batch cap per engine among the settings a server reported: vLLM's
// max_num_seqs, or llama.cpp's slot count (/props total_slots, its --parallel).
func effectiveCap(eff map[string]string) int {
	for _, k := range []string{"max_num_seqs", "total_slots", "n_parallel"} {
		if n := atoi(eff[k]); n > 0 {
			return n
		}
	}
	return 0
}

func atoi(s string) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0
	}
	return n
}
