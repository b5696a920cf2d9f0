package resultstree

import (
	"fmt"
	"path/filepath"

	"github.com/llmscale/llmscale/internal/reportdata"
	"github.com/llmscale/llmscale/internal/results"
)

// requestScan reads an experiment's request files once, a batch at a time: the latencies of
// the requests that succeeded inside the measured window (aggregate's window: end_ns in
// [warm-up, warm-up + run time)) for the CDFs, and every successful request's end on the
// timeline's grid for the completion rate.
type requestScan struct {
	from, to       int64 // the measured window, ns from the load's start
	ttft, itl, e2e *reservoir
	grid           *grid     // nil: no completion rate
	done           []float64 // completions per grid instant
	completed      int
}

// Seeds of the latency reservoirs: fixed, so the same files give the same report.
const (
	seedTTFT = 1 + iota
	seedITL
	seedE2E
)

func newRequestScan(rec *results.Experiment, g *grid) *requestScan {
	s := &requestScan{
		from: rec.Load.WarmupNs, to: rec.Load.WarmupNs + rec.Load.RunTimeNs, grid: g,
		ttft: newReservoir(maxLatencySamples, seedTTFT), itl: newReservoir(maxLatencySamples, seedITL),
		e2e: newReservoir(maxLatencySamples, seedE2E),
	}
	if g != nil {
		s.done = make([]float64, g.n)
	}
	return s
}

// scan reads every request file of dir (requests.parquet, requests-<k>.parquet).
func (s *requestScan) scan(dir string) error {
	files, err := results.RequestFiles(dir)
	if err != nil {
		return err
	}
	for _, p := range files {
		if err := results.ScanParquet(p, s.add); err != nil {
			return fmt.Errorf("%s unreadable: %w", filepath.Base(p), err)
		}
	}
	return nil
}

func (s *requestScan) add(r *results.Request) {
	if !r.OK() {
		return
	}
	s.completed++
	if s.grid != nil {
		// start_unix_ns is the wall clock at sent_ns: the end is as far after it.
		if i := s.grid.index(r.StartUnixNs + r.EndNs - r.SentNs); i >= 0 && i < len(s.done) {
			s.done[i]++
		}
	}
	if r.EndNs >= s.from && r.EndNs < s.to {
		s.ttft.add(float64(r.TTFTNs) / 1e6)
		s.e2e.add(float64(r.E2ENs) / 1e6)
		for _, gap := range r.ITLNs {
			s.itl.add(float64(gap) / 1e6)
		}
	}
}

// rate is the completions per second on the grid; nil without a grid or a completion.
func (s *requestScan) rate() reportdata.Values {
	if s.grid == nil || s.completed == 0 {
		return nil
	}
	out := make(reportdata.Values, len(s.done))
	sec := float64(s.grid.step) / 1e9
	for i, n := range s.done {
		out[i] = n / sec
	}
	return out
}

func (s *requestScan) cdfs(e *reportdata.Experiment) {
	e.TTFT = reportdata.CDFFromSamples(s.ttft.vals, reportdata.MaxCDFPoints)
	e.ITL = reportdata.CDFFromSamples(s.itl.vals, reportdata.MaxCDFPoints)
	e.E2E = reportdata.CDFFromSamples(s.e2e.vals, reportdata.MaxCDFPoints)
}
