package aggregate

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/llmscale/llmscale/internal/results"
)

// StatusError is the status of a row whose experiment's files could not be read well enough to
// measure anything (experiment.json or a request file unreadable or missing); FailureReason
// says which file and why.
const StatusError = "error"

// TreeInfo is what a whole results tree tells about every experiment.
type TreeInfo struct {
	// Interconnect is the GPU link of the machine from results/topology.json (nvlink-all,
	// pcie…), "" when unknown; a simulator's own interconnect (llmscale:sim_info) wins.
	Interconnect string
}

// standardFactors are the factors the row has columns for; others go to extra_factors.
var standardFactors = map[string]bool{
	"gpus": true, "tp": true, "dp": true, "pp": true, "users": true, "concurrency": true, "rate": true, "sweep": true,
	"prompts": true, "max_tokens": true, "batch_size": true, "mbt": true,
}

// Experiment aggregates one experiment folder (results/raw/<exp_id>). It always returns a row:
// when experiment.json or the request files cannot be read the row has status "error" and
// the reason; a telemetry file that cannot be read leaves the row usable and is named in
// aggregate_error. The error joins every problem, each naming the experiment and the file.
func Experiment(dir string, tc TreeInfo) (Row, error) {
	row := Row{ExpID: filepath.Base(dir), Interconnect: tc.Interconnect}
	exp, err := results.ReadExperiment(dir)
	if err != nil {
		row.Status, row.FailureReason = StatusError, "experiment.json unreadable: "+err.Error()
		return row, fmt.Errorf("%s: experiment.json: %w", row.ExpID, err)
	}
	fillIdentity(&row, exp)
	var problems []error
	if err := fillRequests(&row, dir, exp); err != nil {
		problems = append(problems, err)
		row.Status, row.FailureReason = StatusError, joinReason(row.FailureReason, err.Error())
	}
	for _, step := range []func(*Row, string, results.Experiment) error{fillServer, fillGPU, fillClientSummaries, fillSpans} {
		if err := step(&row, dir, exp); err != nil {
			problems = append(problems, err)
			row.AggregateError = joinReason(row.AggregateError, err.Error())
		}
	}
	fillDerived(&row)
	fillSweep(&row, exp)
	if len(problems) > 0 {
		return row, fmt.Errorf("%s: %w", row.ExpID, errors.Join(problems...))
	}
	return row, nil
}

func joinReason(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// fillIdentity copies the factors and settings of experiment.json.
func fillIdentity(r *Row, e results.Experiment) {
	r.Campaign, r.Status, r.FailureReason, r.Repeat = e.Campaign, e.Status, e.Reason, int64(e.Repeat)
	s, l := e.Server, e.Load
	r.ServerID, r.Engine, r.Model, r.ServerVersion = s.ID, s.Engine, s.Model, s.Version
	r.GPUs, r.TP, r.DP, r.PP = int64(s.GPUs), int64(max(s.TP, 1)), int64(max(s.DP, 1)), int64(max(s.PP, 1))
	r.BatchSize, r.MBT = int64(s.BatchSize), int64(s.MBT)
	r.Mode, r.Users, r.Concurrency, r.Rate = string(l.Mode), int64(l.Users), int64(l.Concurrency), l.Rate
	if l.Sweep != nil {
		r.SweepID, r.SweepStage, r.SweepIndex = l.Sweep.ID, l.Sweep.Stage, int64(l.Sweep.Index)
	}
	r.LoadLevel = l.Level()
	r.Prompts, r.MaxTokens, r.API, r.Workers = l.Prompts, int64(l.MaxTokens), string(l.API), int64(max(l.Workers, 1))
	r.GPUNames = strings.Join(e.GPUs, ";")
	r.ExtraFactors = extraFactors(e.Factors)
	r.WarmupS, r.DurationS, r.CooldownS = secs(l.WarmupNs), secs(l.RunTimeNs), secs(l.CooldownNs)
	if !e.MeasureFrom.IsZero() {
		r.MeasureFrom, r.MeasureTo = e.MeasureFrom.UTC().Format(time.RFC3339Nano), e.MeasureTo.UTC().Format(time.RFC3339Nano)
	}
	r.SLOTTFTms, r.SLOTPOTms, r.SLOE2Ems = msOpt(l.SLOTTFTNs), msOpt(l.SLOTPOTNs), msOpt(l.SLOE2ENs)
}

// extraFactors spells the factors without a column of their own, "name=value;…" sorted.
func extraFactors(f map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(f)) {
		if !standardFactors[k] {
			parts = append(parts, k+"="+f[k])
		}
	}
	return strings.Join(parts, ";")
}

func secs(ns int64) float64 { return float64(ns) / 1e9 }

// msOpt is a duration in ns as milliseconds, nil when 0 (not set).
func msOpt(ns int64) *float64 {
	if ns <= 0 {
		return nil
	}
	return F(float64(ns) / 1e6)
}

// F returns a pointer to v, or nil when v is NaN or ±Inf: how optional columns are filled.
func F(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// V reads an optional column: NaN when it is null.
func V(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

// ratio is a/b as an optional column, nil when either is missing or b is 0.
func ratio(a, b float64) *float64 {
	if b == 0 {
		return nil
	}
	return F(a / b)
}

// countRequestFiles counts requests.parquet and requests-<k>.parquet in dir.
func countRequestFiles(dir string) int {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range entries {
		name := e.Name()
		if name == "requests.parquet" {
			n++
			continue
		}
		num, ok := strings.CutPrefix(name, "requests-")
		num, ok2 := strings.CutSuffix(num, ".parquet")
		if _, err := strconv.Atoi(num); ok && ok2 && err == nil {
			n++
		}
	}
	return n
}

// fillDerived computes the ratios the diagnosis reads, from columns already filled.
func fillDerived(r *Row) {
	run, wait := V(r.RunningMean), V(r.WaitingMean)
	if r.BatchCapTotal > 0 {
		r.RunningCapFraction = ratio(run, float64(r.BatchCapTotal))
	}
	r.EngineInflightMean = F(run + wait)
	r.OutsideEngineInflight = F(V(r.ClientInflightMean) - (run + wait))
	if r.MaxNumBatchedTokens > 0 {
		r.IterationBudgetFrac = ratio(V(r.IterationTokensMean), float64(r.MaxNumBatchedTokens))
	}
	r.QueueShareOfTTFT = ratio(V(r.QueueSMean)*1000, V(r.TTFTMean))
	e2e, inEngine := V(r.ServerE2ESMean), V(r.QueueSMean)+V(r.InferenceSMean)
	if e2e > 0 {
		r.FrontendShareOfE2E = F(math.Max(0, e2e-inEngine) / e2e)
	}
	if r.GPUs > 0 && r.OutputThroughput != nil {
		r.OutputPerGPU = F(*r.OutputThroughput / float64(r.GPUs))
		r.TotalPerGPU = F(V(r.TotalThroughput) / float64(r.GPUs))
	}
	r.OutputPerInflight = ratio(V(r.OutputThroughput), V(r.ClientInflightMean))
}
