package aggregate

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/stats"
)

// fillRequests reads every request file of the experiment (several load workers' files are
// merged) and fills the client-side columns over the measured window.
func fillRequests(r *Row, dir string, e results.Experiment) error {
	r.RequestFiles = int64(countRequestFiles(dir))
	rows, err := results.ReadRequestTimings(dir)
	switch {
	case errors.Is(err, os.ErrNotExist) && e.Status != results.StatusDone:
		return nil // never measured: the status already says why
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("requests.parquet missing although the experiment is done")
	case err != nil:
		return fmt.Errorf("request file unreadable: %w", err)
	}
	if want := max(e.Load.Workers, 1); want > 1 && int(r.RequestFiles) < want {
		return fmt.Errorf("%d of %d load workers' request files (requests-<k>.parquet) present: the others' requests are missing",
			r.RequestFiles, want)
	}
	return FillRequests(r, rows, e)
}

// FillRequests fills the client-side columns of r (counts, throughputs, latency statistics,
// failures by kind, goodput) from request rows already in memory, over the measured window
// that experiment.json e gives. compare's bootstrap calls it on resampled rows, so a resample
// is summarised exactly as the experiment was.
func FillRequests(r *Row, rows []results.Request, e results.Experiment) error {
	if err := checkRows(rows); err != nil {
		return err
	}
	if e.Load.RunTimeNs <= 0 {
		return fmt.Errorf("experiment.json gives no measured window (load.run_time_ns %d)", e.Load.RunTimeNs)
	}
	from := time.Duration(e.Load.WarmupNs)
	to := from + time.Duration(e.Load.RunTimeNs)
	w := window{rows: rows, from: int64(from), to: int64(to)}
	s := stats.SummarizeRecords(rows, stats.Span{From: from, To: to, OpenLoop: r.LoadMode() == loadspec.ModeRate})
	fillClient(r, s, len(rows))
	w.fillFailures(r)
	w.fillPerRequest(r, e.Load)
	return nil
}

// fillClient copies the summary of the window.
func fillClient(r *Row, s stats.Summary, total int) {
	r.RequestsTotal, r.Sent, r.NotSent = int64(total), int64(s.Sent), int64(s.NotSent)
	r.Completed, r.Failed = int64(s.Succeeded), int64(s.Failed)
	r.PromptTokens, r.OutputTokens = s.PromptTokens, s.OutputTokens
	if s.Window > 0 {
		r.RequestThroughput, r.OutputThroughput = F(s.RequestThroughput), F(s.OutputThroughput)
		r.TotalThroughput, r.AchievedRate = F(s.TotalThroughput), F(s.AchievedRate)
	}
	if r.LoadMode() == loadspec.ModeRate {
		r.RequestedRate, r.ScheduledRate = F(r.Rate), F(s.ScheduledRate)
	}
	setStat(&r.TTFTMean, &r.TTFTP50, &r.TTFTP90, &r.TTFTP95, &r.TTFTP99, &r.TTFTMax, s.TTFT)
	setStat(&r.TPOTMean, &r.TPOTP50, &r.TPOTP90, &r.TPOTP95, &r.TPOTP99, &r.TPOTMax, s.TPOT)
	setStat(&r.ITLMean, &r.ITLP50, &r.ITLP90, &r.ITLP95, &r.ITLP99, &r.ITLMax, s.ITL)
	setStat(&r.TokenITLMean, &r.TokenITLP50, &r.TokenITLP90, &r.TokenITLP95, &r.TokenITLP99, &r.TokenITLMax, s.TokenITL)
	setStat(&r.E2EMean, &r.E2EP50, &r.E2EP90, &r.E2EP95, &r.E2EP99, &r.E2EMax, s.E2E)
	setStat(&r.E2EFromDueMean, &r.E2EFromDueP50, &r.E2EFromDueP90, &r.E2EFromDueP95, &r.E2EFromDueP99,
		&r.E2EFromDueMax, s.E2EFromDue)
	setStat(&r.SendLagMean, &r.SendLagP50, &r.SendLagP90, &r.SendLagP95, &r.SendLagP99, &r.SendLagMax, s.SendLag)
}

// setStat fills the mean, p50, p90, p95, p99 and max columns of one latency; all stay null
// when no request gave a value.
func setStat(mean, p50, p90, p95, p99, mx **float64, st stats.Stat) {
	if st.N == 0 {
		return
	}
	*mean, *p50, *p90, *p95, *p99, *mx = F(st.Mean), F(st.Median), F(st.P90), F(st.P95), F(st.P99), F(st.Max)
}

// window is the request rows of an experiment and its measured window [from, to) in ns.
type window struct {
	rows     []results.Request
	from, to int64
}

func (w window) in(t int64) bool { return t >= w.from && t < w.to }

// inWindow reports whether a request belongs to the window: it ended inside it (the phase
// column says the same), and it was sent.
func (w window) inWindow(q *results.Request) bool {
	return q.ErrorKind != results.ErrorNotSent && w.in(q.EndNs)
}

// failureColumns maps error kinds to their failed_<kind> column.
func failureColumns(r *Row) map[string]*int64 {
	return map[string]*int64{
		results.ErrorConnect: &r.FailedConnect, results.ErrorTLS: &r.FailedTLS, results.ErrorHTTP: &r.FailedHTTP,
		results.ErrorTimeout: &r.FailedTimeout, results.ErrorStall: &r.FailedStall,
		results.ErrorStreamBroken: &r.FailedStreamBroken, results.ErrorNoDone: &r.FailedNoDone,
		results.ErrorStreamError: &r.FailedStreamError, results.ErrorBadStream: &r.FailedBadStream,
		results.ErrorNoOutput: &r.FailedNoOutput, results.ErrorCancelled: &r.FailedCancelled,
	}
}

// fillFailures counts the window's failed requests by kind. HTTP failures are also split by
// status in the failures column ("http_503=4").
func (w window) fillFailures(r *Row) {
	cols := failureColumns(r)
	counts := map[string]int{}
	for i := range w.rows {
		q := &w.rows[i]
		if q.OK() || !w.inWindow(q) {
			continue
		}
		key := q.ErrorKind
		if key == results.ErrorHTTP && q.HTTPStatus > 0 {
			key += "_" + strconv.Itoa(int(q.HTTPStatus))
		}
		counts[key]++
		if c, ok := cols[q.ErrorKind]; ok {
			*c++
		} else {
			r.FailedOther++
		}
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, counts[k]))
	}
	r.Failures = strings.Join(parts, ";")
}

// fillPerRequest computes what loadgen's summary does not: goodput, the decode speed a
// stream sees, and the mean number of requests in flight at the client.
func (w window) fillPerRequest(r *Row, l results.LoadInfo) {
	var good, streams int
	var speedSum, busyNs float64
	for i := range w.rows {
		q := &w.rows[i]
		if q.ErrorKind == results.ErrorNotSent {
			continue
		}
		busyNs += float64(max(0, min(q.EndNs, w.to)-max(q.SentNs, w.from)))
		if !q.OK() || !w.in(q.EndNs) {
			continue
		}
		if meetsSLO(q, l) {
			good++
		}
		if q.OutputTokens > 1 && q.E2ENs > q.TTFTNs {
			speedSum += float64(q.OutputTokens-1) / (float64(q.E2ENs-q.TTFTNs) / 1e9)
			streams++
		}
	}
	sec := float64(w.to-w.from) / 1e9
	r.ClientInflightMean = F(busyNs / 1e9 / sec)
	if streams > 0 {
		r.TokensPerUser = F(speedSum / float64(streams))
	}
	if l.SLOTTFTNs > 0 || l.SLOTPOTNs > 0 || l.SLOE2ENs > 0 {
		r.Goodput = F(float64(good) / sec)
		if r.Completed+r.Failed > 0 {
			r.GoodputFraction = F(float64(good) / float64(r.Completed+r.Failed))
		}
	}
}

// meetsSLO reports whether a completed request met every SLO given, as vLLM's benchmark
// judges goodput: TTFT and E2E against their limits, TPOT too (a one-token answer has TPOT 0).
func meetsSLO(q *results.Request, l results.LoadInfo) bool {
	tpot := int64(0)
	if q.OutputTokens > 1 {
		tpot = q.TPOTNs
	}
	return (l.SLOTTFTNs <= 0 || q.TTFTNs <= l.SLOTTFTNs) &&
		(l.SLOTPOTNs <= 0 || tpot <= l.SLOTPOTNs) &&
		(l.SLOE2ENs <= 0 || q.E2ENs <= l.SLOE2ENs)
}

// maxChunkTokens bounds the tokens of one streamed chunk in a request row: a larger count is a
// corrupted file (the token-accurate ITL would otherwise expand it into that many values).
const maxChunkTokens = 1 << 20

// checkRows rejects request rows no load generator writes: negative or absurd token counts.
func checkRows(rows []results.Request) error {
	for i := range rows {
		q := &rows[i]
		bad := q.OutputTokens < 0 || q.PromptTokens < 0 || q.OutputTokens > maxChunkTokens*16
		for _, k := range q.ChunkTokens {
			bad = bad || k < 0 || k > maxChunkTokens
		}
		if bad {
			return fmt.Errorf("request file corrupted: row %d (worker %d, seq %d) has impossible token counts", i, q.WorkerID, q.Seq)
		}
	}
	return nil
}
