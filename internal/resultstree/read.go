// Package resultstree reads a campaign's results tree and its analysis into the report's
// input, a reportdata.Data value: the campaign from campaign.json, topology.json and the
// experiments' experiment.json; the scaling series from the fits and the diagnosis; every
// experiment's summary, latency CDFs (request files), phases (server_spans.parquet) and
// timeline (request files, server_metrics*.parquet, gpu.parquet); the load curves and the
// Pareto view. It is the only part of the report that reads files; package report draws what
// it returns. Parquet files go through results.ScanParquet, a batch of rows at a time.
package resultstree

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/llmscale/llmscale/internal/aggregate"
	"github.com/llmscale/llmscale/internal/analysis"
	"github.com/llmscale/llmscale/internal/diagnose"
	"github.com/llmscale/llmscale/internal/reportdata"
	"github.com/llmscale/llmscale/internal/results"
)

// Options tune Read.
type Options struct {
	// Log receives one line per file that could not be read (the report is built without
	// it); nil discards them.
	Log io.Writer
}

// Read builds the report's Data from a results tree and its analysis (analysis.Run or
// analysis.Load on the same tree): the campaign from campaign.json, topology.json and the
// experiments' experiment.json; the series from the fits and the diagnosis; every
// experiment's summary from its summary_metrics row, its latency CDFs from its request files
// and its timeline from its request files, server_metrics*.parquet and gpu.parquet; the load
// curves and the Pareto view from the rows. docs/report.md says which file feeds which figure.
//
// A missing or unreadable file never fails the whole report: the experiment keeps what could
// be read (no summary, no CDFs or no timeline), and the problem goes to opts.Log. The error is
// for a results folder that cannot be read at all. Files are read a batch of rows at a time
// and latencies sampled (maxLatencySamples), so memory stays bounded whatever the tree's size.
func Read(root string, a analysis.Result, opts Options) (reportdata.Data, error) {
	if _, err := os.Stat(root); err != nil {
		return reportdata.Data{}, fmt.Errorf("results folder: %w", err)
	}
	var problems []error
	recs := readRecords(root, a.Rows, &problems)
	d := reportdata.Data{Campaign: buildCampaign(root, a.Rows, recs, &problems)}
	verdicts := make(map[string]diagnose.Verdict, len(a.Diagnosis.Experiments))
	for _, e := range a.Diagnosis.Experiments {
		verdicts[e.ExpID] = e.Verdict
	}
	rows := sortedRows(a.Rows)
	repeats := slices.ContainsFunc(rows, func(r *aggregate.Row) bool { return r.Repeat > 1 })
	for _, r := range rows {
		e := buildExperiment(r, verdicts)
		if !repeats {
			e.Factors.Repeat = 0 // one repeat: not worth a word in every label
		}
		if rec := recs[r.ExpID]; rec != nil {
			problems = append(problems, readExperimentFiles(results.Dir(root, r.ExpID), rec, r, &e)...)
		}
		d.Experiments = append(d.Experiments, e)
	}
	d.Series = buildSeries(a.Fits, a.Diagnosis)
	addGoodput(d.Series, rows)
	d.LoadCurves = buildLoadCurves(rows)
	d.Pareto = paretoOf(d.Experiments)
	if opts.Log != nil {
		for _, p := range problems {
			fmt.Fprintf(opts.Log, "llmscale: report: %v\n", p)
		}
	}
	return d, nil
}

// readRecords reads every row's experiment.json; an unreadable one is left out (its row
// already says why, so only a damaged file is a problem worth repeating).
func readRecords(root string, rows []aggregate.Row, problems *[]error) map[string]*results.Experiment {
	out := make(map[string]*results.Experiment, len(rows))
	for i := range rows {
		id := rows[i].ExpID
		rec, err := results.ReadExperiment(results.Dir(root, id))
		switch {
		case err == nil:
			out[id] = &rec
		case !errors.Is(err, fs.ErrNotExist):
			*problems = append(*problems, fmt.Errorf("%s: experiment.json: %w", id, err))
		}
	}
	return out
}

// sortedRows orders the experiments for reading: by GPU count, parallelism, server settings,
// workload, then load level and repeat.
func sortedRows(rows []aggregate.Row) []*aggregate.Row {
	out := make([]*aggregate.Row, len(rows))
	for i := range rows {
		out[i] = &rows[i]
	}
	slices.SortStableFunc(out, func(a, b *aggregate.Row) int {
		return cmp.Or(cmp.Compare(a.GPUs, b.GPUs), cmp.Compare(a.TP, b.TP), cmp.Compare(a.DP, b.DP),
			cmp.Compare(a.PP, b.PP), cmp.Compare(a.BatchSize, b.BatchSize), cmp.Compare(a.MBT, b.MBT),
			cmp.Compare(a.ExtraFactors, b.ExtraFactors), cmp.Compare(a.Prompts, b.Prompts),
			cmp.Compare(a.MaxTokens, b.MaxTokens), cmp.Compare(a.Mode, b.Mode),
			cmp.Compare(a.LoadLevel, b.LoadLevel), cmp.Compare(a.Repeat, b.Repeat), cmp.Compare(a.ExpID, b.ExpID))
	})
	return out
}

// buildExperiment fills what the summary row and the diagnosis say of one experiment.
func buildExperiment(r *aggregate.Row, verdicts map[string]diagnose.Verdict) reportdata.Experiment {
	e := reportdata.Experiment{
		ID: r.ExpID, Config: configLabel(r), Status: r.Status, Reason: r.FailureReason,
		Factors: reportdata.Factors{
			GPUs: int(r.GPUs), TP: int(r.TP), DP: int(r.DP), PP: int(r.PP), Mode: r.Mode,
			Users: int(r.Users), Concurrency: int(r.Concurrency), Rate: r.Rate, Prompts: r.Prompts,
			MaxTokens: int(r.MaxTokens), BatchSize: int(r.BatchSize), MBT: int(r.MBT), Repeat: int(r.Repeat),
		},
	}
	if r.Status == results.StatusDone && r.Completed > 0 {
		e.Summary = summaryOf(r)
	}
	if v, ok := verdicts[r.ExpID]; ok {
		e.Diagnosis = fromVerdict(v)
	}
	return e
}

// configLabel names an experiment's server configuration: "TP=2 DP=1 · max-num-seqs 64".
func configLabel(r *aggregate.Row) string {
	par := fmt.Sprintf("TP=%d DP=%d", r.TP, r.DP)
	if r.PP > 1 {
		par += fmt.Sprintf(" PP=%d", r.PP)
	}
	parts := []string{par}
	if r.BatchSize > 0 {
		parts = append(parts, fmt.Sprintf("max-num-seqs %d", r.BatchSize))
	}
	if r.MBT > 0 {
		parts = append(parts, fmt.Sprintf("max-num-batched-tokens %d", r.MBT))
	}
	if r.ExtraFactors != "" {
		parts = append(parts, strings.ReplaceAll(r.ExtraFactors, ";", ", "))
	}
	return strings.Join(parts, " · ")
}

func summaryOf(r *aggregate.Row) *reportdata.Summary {
	v := aggregate.V
	lat := func(mean, p50, p90, p99 *float64) reportdata.Latency {
		return reportdata.Latency{Mean: v(mean), P50: v(p50), P90: v(p90), P99: v(p99)}
	}
	return &reportdata.Summary{
		Completed: int(r.Completed), Errors: int(r.Failed),
		RequestThroughput: v(r.RequestThroughput), OutputThroughput: v(r.OutputThroughput),
		OutputThroughputPerGPU: v(r.OutputPerGPU), TokensPerUser: v(r.TokensPerUser),
		TTFT:    lat(r.TTFTMean, r.TTFTP50, r.TTFTP90, r.TTFTP99),
		TPOT:    lat(r.TPOTMean, r.TPOTP50, r.TPOTP90, r.TPOTP99),
		ITL:     lat(r.ITLMean, r.ITLP50, r.ITLP90, r.ITLP99),
		E2E:     lat(r.E2EMean, r.E2EP50, r.E2EP90, r.E2EP99),
		Goodput: r.Goodput, Saturated: r.Saturated,
	}
}

// fromVerdict turns a diagnosis verdict into the report's: every piece of evidence with its
// threshold, the evidence that was missing, and the other rules that held.
func fromVerdict(v diagnose.Verdict) *reportdata.Verdict {
	out := &reportdata.Verdict{Code: v.Code, Label: v.Label, Sentence: v.Sentence}
	named := map[string]bool{}
	for _, ev := range v.Evidence {
		named[ev.Name] = true
		thr := ev.Threshold
		if m := ev.MarginText(); m != "" {
			thr += ", margin " + m
		}
		out.Evidence = append(out.Evidence, reportdata.Evidence{Name: ev.Name, Value: ev.Text, Threshold: thr, Holds: ev.Holds})
	}
	if len(v.Also) > 0 {
		labels := make([]string, len(v.Also))
		for i, c := range v.Also {
			labels[i] = diagnose.Label(c)
		}
		out.Sentence = strings.TrimSpace(out.Sentence + " Also held: " + strings.Join(labels, ", ") + ".")
	}
	var unnamed []string
	for _, m := range v.Missing {
		if !named[m] {
			unnamed = append(unnamed, m)
		}
	}
	if len(unnamed) > 0 && !strings.Contains(out.Sentence, "issing evidence") {
		out.Sentence = strings.TrimSpace(out.Sentence + " Not measured: " + strings.Join(unnamed, "; ") + ".")
	}
	return out
}

// readExperimentFiles fills an experiment's latency CDFs and timeline from its raw files
// (dir), returning the problems with files that exist but cannot be read.
func readExperimentFiles(dir string, rec *results.Experiment, r *aggregate.Row, e *reportdata.Experiment) []error {
	var problems []error
	fail := func(err error) {
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			problems = append(problems, fmt.Errorf("%s: %w", r.ExpID, err))
		}
	}
	sm, err := readServerMetrics(dir)
	fail(err)
	gs, err := readGPU(dir)
	fail(err)
	ph, err := readPhases(dir)
	fail(err)
	e.Phases = ph
	g := timelineGrid(rec, sm, gs)
	rs := newRequestScan(rec, g)
	err = rs.scan(dir)
	fail(err)
	if err == nil {
		rs.cdfs(e)
	}
	if g == nil {
		return problems
	}
	t := reportdata.Timeline{OffsetS: g.offsets(), BatchCap: int(r.BatchCapTotal)}
	sm.fill(&t, *g)
	gs.fill(&t, *g)
	if t.RequestRate, t.RequestRateSource = rs.rate(), reportdata.RateFromRequests; t.RequestRate == nil {
		if t.RequestRate = sm.completionRate(*g); t.RequestRate != nil {
			t.RequestRateSource = reportdata.RateFromServer
		}
	}
	if t.Running == nil && t.Waiting == nil && t.KVUsage == nil && t.GPUUtil == nil && t.RequestRate == nil {
		return problems
	}
	if !rec.MeasureFrom.IsZero() && !rec.MeasureTo.IsZero() {
		t.MeasureFrom = reportdata.Opt(float64(rec.MeasureFrom.UnixNano()-g.origin) / 1e9)
		t.MeasureTo = reportdata.Opt(float64(rec.MeasureTo.UnixNano()-g.origin) / 1e9)
	}
	t = reportdata.DownsampleTimeline(t, reportdata.MaxTimelinePoints)
	e.Timeline = &t
	return problems
}

// timelineGrid is the experiment's grid: from its start to its end (or the samples' extent),
// at the coarsest interval of its sources. Nil when nothing places it in time.
func timelineGrid(rec *results.Experiment, sm serverMetrics, gs gpuSamples) *grid {
	slo, shi, sstep := sm.span()
	glo, ghi, gstep := gs.span()
	lo, hi := min(slo, glo), max(shi, ghi)
	origin, end := lo, hi
	if !rec.StartedAt.IsZero() {
		origin = rec.StartedAt.UnixNano()
	}
	if !rec.EndedAt.IsZero() {
		end = max(end, rec.EndedAt.UnixNano())
	}
	if origin == math.MaxInt64 || end < origin || end-origin < 0 { // the last: an overflow of absurd times
		return nil
	}
	g := newGrid(origin, end, max(sstep, gstep))
	return &g
}
