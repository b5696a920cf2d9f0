package stats

import (
	"regexp"
	"slices"
	"sort"
	"time"

	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/results"
)

// Summary is what a run's request records say of its measured window [from, to) (warm-up
// and cool-down excluded), with vLLM's metric names: counts, throughputs and latency
// statistics. The load generator's own summary adds what only the live run knows.
type Summary struct {
	Window time.Duration // the measured window

	Sent        int            // requests sent, every phase
	Succeeded   int            // in the measured window
	Failed      int            // in the measured window
	NotSent     int            // held by the in-flight cap until sending stopped, every phase
	Phases      map[string]int // requests by phase, every outcome
	Failures    map[string]int // failed requests by kind, every phase
	FirstErrors []string       // the first few distinct failures, "kind: message"

	GoodRequests   int     // succeeded requests of the window that met every objective
	RequestGoodput float64 // GoodRequests per second of the window (vLLM's request_goodput)

	PromptTokens, OutputTokens                           int64   // succeeded requests of the window
	RequestThroughput, OutputThroughput, TotalThroughput float64 // per second of the window

	TTFT, TPOT, ITL, E2E Stat // vLLM's names; ITL per chunk
	// TTFTvLLM and ITLvLLM are the same figures as vLLM's own client (vllm bench serve)
	// computes them, timing every chunk with choices, content or not; VLLMDiffers says some
	// response had such a chunk (chat's role-only first delta), else they equal TTFT and ITL.
	TTFTvLLM, ITLvLLM Stat
	VLLMDiffers       bool
	TokenITL          Stat // each gap divided by the tokens of its chunk, one value per token
	E2EFromDue        Stat // from when the request was due: includes client-side waiting
	SendLag           Stat // sent − due, requests sent in the window
	// Connect is the time from sending until a connection was ready, requests that ended in
	// the window whatever their outcome (a request that failed after its connect waited for
	// it too) and that timed one: a dial, or microseconds for a connection kept alive or
	// opened ahead. It says whether TTFT included waiting for connections (a burst start
	// without connections opened ahead, or a server that closes kept-alive ones).
	Connect Stat

	ScheduledRate float64 // rate mode: requests due in the window / window
	AchievedRate  float64 // requests sent in the window / window
}

// Span is a measured window [From, To) in offsets from a run's start; OpenLoop tells a rate
// run, whose scheduled rate counts the requests due in the window.
type Span struct {
	From, To time.Duration
	OpenLoop bool
}

func (w Span) in(t int64) bool { return t >= int64(w.From) && t < int64(w.To) }

// Trend is the median send lag of the first and the last tenth of a window's requests, by
// due time: a growing lag says the client fell behind its schedule.
type Trend [2]time.Duration

// reqStat is what the accumulator keeps of each record.
type reqStat struct {
	ok              bool
	due, sent, end  int64
	ttft, e2e, tpot int64
	prompt, output  int32
	vttft           int64 // vLLM's TTFT, when hasV
	connect         int64 // 0: not timed
	hasV            bool  // vLLM's figures differ from ours (see vGap)
}

// memGap is one measured response's chunk gaps, kept in memory when there is no gap store:
// ours, the tokens of each chunk, and vLLM's gaps where they differ from ours (chat's role
// delta, an empty finish chunk; nil otherwise).
type memGap struct {
	end         int64
	itl         []int64
	chunkTokens []int32
	vll         []int64
}

// Accumulator keeps what a window's summary needs from every record, so the records
// themselves can go (to a file) as they come. Its zero value keeps it in memory; Spill moves
// it to temporary files. Not safe for concurrent use.
type Accumulator struct {
	SLO loadspec.SLO // goodput's objectives

	gaps        *gapStore // when set, holds the chunk gaps of measured requests instead of memGaps
	memGaps     []memGap
	sortMax     int       // StreamStats' sortMax; 0: DefaultSortMax
	store       *reqStore // when set, holds the requests' reqStats instead of reqs
	reqs        []reqStat
	sent        int
	succeeded   int // every phase
	notSent     int
	notSentDue  []int64
	phases      map[string]int
	failures    map[string]int
	firstErrors []string
	seen        map[string]bool
}

// Spill keeps what the summary needs of the records added from now on in two temporary
// files in dir ("" is the system's), removed by Close: the chunk gaps of measured requests
// (they grow with the answer) and every request's timings and token counts (they grow with
// the run), so that a run's memory stays flat however long it lasts. Call it before the
// first Add: records added before stay in memory and count all the same.
func (a *Accumulator) Spill(dir string) error {
	g, err := newGapStore(dir)
	if err != nil {
		return err
	}
	r, err := newReqStore(dir)
	if err != nil {
		g.close()
		return err
	}
	a.gaps, a.store = g, r
	return nil
}

// Close removes the temporary files, if any.
func (a *Accumulator) Close() {
	if a.gaps != nil {
		a.gaps.close()
		a.gaps = nil
	}
	if a.store != nil {
		a.store.close()
		a.store = nil
	}
}

// Succeeded is the number of successful requests so far, every phase.
func (a *Accumulator) Succeeded() int { return a.succeeded }

const maxFirstErrors = 5

// idLike is a run of hex digits, one of them a decimal digit: an id, a count or a time.
var idLike = regexp.MustCompile(`[0-9a-fA-F]*[0-9][0-9a-fA-F]*`)

// errorShape is an error message with its ids blanked: two errors that differ only in a
// response id or a byte count are one error to report. Short numbers (HTTP statuses) stay.
func errorShape(msg string) string {
	return idLike.ReplaceAllStringFunc(msg, func(id string) string {
		if len(id) < 5 {
			return id
		}
		return "#"
	})
}

// Add keeps what the summary needs of one record.
func (a *Accumulator) Add(rec *results.Request) {
	if a.phases == nil {
		a.phases, a.failures, a.seen = map[string]int{}, map[string]int{}, map[string]bool{}
	}
	a.phases[rec.Phase]++
	if rec.ErrorKind == results.ErrorNotSent {
		a.notSent++
		a.notSentDue = append(a.notSentDue, rec.DueNs)
		return
	}
	a.sent++
	if rec.OK() {
		a.succeeded++
		a.addOK(rec)
		return
	}
	a.failures[rec.ErrorKind]++
	e := rec.ErrorKind + ": " + rec.Error
	if key := errorShape(e); len(a.firstErrors) < maxFirstErrors && !a.seen[key] {
		a.seen[key] = true
		a.firstErrors = append(a.firstErrors, e)
	}
	a.keep(&reqStat{due: rec.DueNs, sent: rec.SentNs, end: rec.EndNs, connect: rec.ConnectNs})
}

// keep stores one request's reqStat.
func (a *Accumulator) keep(q *reqStat) {
	if a.store != nil {
		a.store.add(q)
		return
	}
	a.reqs = append(a.reqs, *q)
}

// eachReq visits every request's reqStat, those kept in memory first, in the order they
// were added; visit must not keep q.
func (a *Accumulator) eachReq(visit func(q *reqStat)) error {
	for i := range a.reqs {
		visit(&a.reqs[i])
	}
	if a.store != nil {
		return a.store.each(visit)
	}
	return nil
}

// addOK keeps a successful record's timings, and its chunk gaps when it was measured.
func (a *Accumulator) addOK(rec *results.Request) {
	s := reqStat{ok: true, due: rec.DueNs, sent: rec.SentNs, end: rec.EndNs, ttft: rec.TTFTNs, e2e: rec.E2ENs,
		tpot: rec.TPOTNs, prompt: rec.PromptTokens, output: rec.OutputTokens, connect: rec.ConnectNs}
	if len(rec.VLLMITLNs) > 0 {
		s.vttft, s.hasV = rec.VLLMTTFTNs, true
	}
	switch {
	case rec.Phase != results.PhaseMeasure:
	case a.gaps != nil:
		a.gaps.add(memGap{rec.EndNs, rec.ITLNs, rec.ChunkTokens, rec.VLLMITLNs})
	default:
		a.memGaps = append(a.memGaps, memGap{rec.EndNs, rec.ITLNs, rec.ChunkTokens, rec.VLLMITLNs})
	}
	a.keep(&s)
}

func ms(ns int64) float64 { return float64(ns) / 1e6 }

// SummarizeRecords computes the measured-window figures of a run — counts, throughputs and
// latency statistics, with the same definitions and percentiles as the live summary — from its
// request records read back from files (one worker's or several workers' merged). A request
// belongs to the window when it ended inside it (end_ns), as the phase column says.
func SummarizeRecords(rows []results.Request, w Span) Summary {
	var acc Accumulator
	for i := range rows {
		acc.Add(&rows[i])
	}
	s, _ := acc.Summarize(w)
	return s
}

// Summarize computes the figures of the requests of window w from every record added, and
// returns the send lag's trend over the window. The requests are read in a few passes (from
// their file when spilled), never all held at once beyond sortMax values a statistic. A file
// that failed leaves the figures it holds empty rather than wrong.
func (a *Accumulator) Summarize(w Span) (Summary, Trend) {
	s := Summary{Window: w.To - w.From, Sent: a.sent, NotSent: a.notSent, Phases: a.phases, Failures: a.failures,
		FirstErrors: a.firstErrors}
	due, sent, err := a.counts(&s, w)
	if err != nil {
		return s, Trend{}
	}
	a.latencyStats(&s, w)
	a.gapStats(&s, w)
	s.rates(due+a.dueNotSent(w), sent, w.OpenLoop)
	return s, a.lagTrend(w, sent)
}

// counts fills the window's counts and tokens, and returns how many requests were due and
// sent in it. On error s is left as it was.
func (a *Accumulator) counts(s *Summary, w Span) (due, sent int, err error) {
	var c Summary
	err = a.eachReq(func(q *reqStat) {
		if w.in(q.due) {
			due++
		}
		if w.in(q.sent) {
			sent++
		}
		if !w.in(q.end) {
			return
		}
		if !q.ok {
			c.Failed++
			return
		}
		c.Succeeded++
		if a.SLO.Any() && a.SLO.Meets(q.ttft, q.tpot, q.e2e, q.output) {
			c.GoodRequests++
		}
		c.PromptTokens += int64(q.prompt)
		c.OutputTokens += int64(q.output)
		c.VLLMDiffers = c.VLLMDiffers || q.hasV
	})
	if err != nil {
		return 0, 0, err
	}
	s.Failed, s.Succeeded, s.GoodRequests, s.VLLMDiffers = c.Failed, c.Succeeded, c.GoodRequests, c.VLLMDiffers
	s.PromptTokens, s.OutputTokens = c.PromptTokens, c.OutputTokens
	return due, sent, nil
}

// latencyStats fills the per-request latency statistics of the window, exact percentiles
// streamed in passes (StreamStats): up to sortMax values each they are NewStat's to the bit.
func (a *Accumulator) latencyStats(s *Summary, w Span) {
	st, err := StreamStats(7, a.sortMax, func(add func(int, float64)) error {
		return a.eachReq(func(q *reqStat) {
			if w.in(q.sent) {
				add(0, ms(q.sent-q.due))
			}
			if q.connect > 0 && w.in(q.end) {
				add(6, ms(q.connect))
			}
			if !q.ok || !w.in(q.end) {
				return
			}
			add(1, ms(q.ttft))
			add(2, ms(q.e2e))
			add(3, ms(q.e2e+q.sent-q.due))
			if q.output > 1 {
				add(4, ms(q.tpot))
			}
			t := q.ttft
			if q.hasV {
				t = q.vttft
			}
			add(5, ms(t))
		})
	})
	if err == nil {
		s.SendLag, s.TTFT, s.E2E, s.E2EFromDue, s.TPOT, s.TTFTvLLM, s.Connect = st[0], st[1], st[2], st[3], st[4], st[5], st[6]
	}
}

// dueNotSent counts the requests due in the window though never sent.
func (a *Accumulator) dueNotSent(w Span) int {
	n := 0
	for _, d := range a.notSentDue {
		if w.in(d) {
			n++
		}
	}
	return n
}

// rates fills the per-second figures of the window.
func (s *Summary) rates(due, sent int, openLoop bool) {
	sec := s.Window.Seconds()
	if sec <= 0 {
		return
	}
	s.RequestThroughput = float64(s.Succeeded) / sec
	s.RequestGoodput = float64(s.GoodRequests) / sec
	s.OutputThroughput = float64(s.OutputTokens) / sec
	s.TotalThroughput = float64(s.PromptTokens+s.OutputTokens) / sec
	s.AchievedRate = float64(sent) / sec
	if openLoop {
		s.ScheduledRate = float64(due) / sec
	}
}

// gapStats fills the chunk-gap statistics of the window: ITL per chunk, per token (each gap
// split over the tokens of the chunk it ends) and by vLLM's definition (its gaps where a
// response's differ from ours). The gaps are streamed from the store in a few passes, never
// all held at once, and the percentiles stay exact (StreamStats). A store that failed leaves
// them empty rather than wrong.
func (a *Accumulator) gapStats(s *Summary, w Span) {
	vllm := s.VLLMDiffers
	st, err := StreamStats(3, a.sortMax, func(add func(int, float64)) error {
		return a.eachGap(func(g memGap) {
			if !w.in(g.end) {
				return
			}
			for i, x := range g.itl {
				add(0, ms(x))
				if i+1 < len(g.chunkTokens) && g.chunkTokens[i+1] > 0 {
					k := g.chunkTokens[i+1]
					for range k {
						add(1, ms(x)/float64(k))
					}
				}
			}
			if vll := g.vll; vllm {
				if len(vll) == 0 {
					vll = g.itl
				}
				for _, x := range vll {
					add(2, ms(x))
				}
			}
		})
	})
	if err == nil {
		s.ITL, s.TokenITL, s.ITLvLLM = st[0], st[1], st[2]
	}
}

// eachGap visits the chunk gaps of every measured response, in the order they were added.
func (a *Accumulator) eachGap(visit func(memGap)) error {
	if a.gaps != nil {
		return a.gaps.each(visit)
	}
	for _, g := range a.memGaps {
		visit(g)
	}
	return nil
}

type lagPoint struct{ due, lag int64 }

// lagTrend is the send lag's trend over the window's sent requests. Up to sortMax of them
// it loads them and sorts them (lagTrend); above, it streams them (streamedLagTrend).
func (a *Accumulator) lagTrend(w Span, sent int) Trend {
	if sent < 20 {
		return Trend{}
	}
	if sent > orDefaultSortMax(a.sortMax) {
		return a.streamedLagTrend(w, int64(sent))
	}
	points := make([]lagPoint, 0, sent)
	err := a.eachReq(func(q *reqStat) {
		if w.in(q.sent) {
			points = append(points, lagPoint{q.due, q.sent - q.due})
		}
	})
	if err != nil {
		return Trend{}
	}
	return lagTrend(points)
}

// streamedLagTrend is lagTrend of the n requests sent in the window without holding them:
// it finds the due times that bound the first and the last tenth (exact ranks, streamed),
// then the median lag of the requests on each side of them. Where several requests share
// the bounding due time, all of them count in the tenth (lagTrend keeps an arbitrary few of
// them: its sort is not stable), so the two may differ then; with distinct due times they
// agree exactly. Times are int64 nanoseconds, exact as float64 below 2^53 (104 days).
func (a *Accumulator) streamedLagTrend(w Span, n int64) Trend {
	k := n / 10
	dues, err := streamRanks(a.sortMax, []func(int64) []int64{
		func(m int64) []int64 { return []int64{k - 1, m - k} },
	}, func(add func(int, float64)) error {
		return a.eachReq(func(q *reqStat) {
			if w.in(q.sent) {
				add(0, float64(q.due))
			}
		})
	})
	if err != nil {
		return Trend{}
	}
	first, last := int64(dues[0][0]), int64(dues[0][1])
	upperMedian := func(m int64) []int64 { return []int64{m / 2} } // lagTrend's v[len(v)/2]
	lags, err := streamRanks(a.sortMax, []func(int64) []int64{upperMedian, upperMedian}, func(add func(int, float64)) error {
		return a.eachReq(func(q *reqStat) {
			if !w.in(q.sent) {
				return
			}
			if q.due <= first {
				add(0, float64(q.sent-q.due))
			}
			if q.due >= last {
				add(1, float64(q.sent-q.due))
			}
		})
	})
	if err != nil {
		return Trend{}
	}
	return Trend{time.Duration(lags[0][0]), time.Duration(lags[1][0])}
}

// lagTrend returns the median send lag of the first and the last tenth of the window's
// requests, by due time.
func lagTrend(points []lagPoint) Trend {
	if len(points) < 20 {
		return Trend{}
	}
	sort.Slice(points, func(i, j int) bool { return points[i].due < points[j].due })
	median := func(p []lagPoint) time.Duration {
		v := make([]int64, len(p))
		for i, x := range p {
			v[i] = x.lag
		}
		slices.Sort(v)
		return time.Duration(v[len(v)/2])
	}
	n := len(points) / 10
	return Trend{median(points[:n]), median(points[len(points)-n:])}
}
