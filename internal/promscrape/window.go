package promscrape

import (
	"math"
	"sort"
	"strings"

	"github.com/llmscale/llmscale/internal/results"
)

// Window indexes one experiment's server_metrics rows for the analysis: every series in time
// order over the before snapshot, the grid and the after snapshot. Build it once with
// NewWindow and ask it for deltas and statistics; it never changes the rows.
type Window struct {
	series     map[string][]*series // by name
	scrapes    []scrapeKey          // every scrape that succeeded, in time order
	beforeOK   bool                 // the before snapshot succeeded
	afterOK    bool                 // the after snapshot succeeded
	grid       int                  // grid scrapes, failed ones included
	gridFailed int
	// gridTimes are the grid scrapes' instants, failed ones included, by the scrape_up
	// series (one per replica once the replicas' rows are merged): they give the grid step.
	gridTimes map[string][]int64
}

type scrapeKey struct {
	phase int // 0 before, 1 during, 2 after
	seq   int64
	time  int64
}

func (a scrapeKey) less(b scrapeKey) bool {
	if a.phase != b.phase {
		return a.phase < b.phase
	}
	if a.time != b.time {
		return a.time < b.time
	}
	return a.seq < b.seq
}

type point struct {
	at    scrapeKey
	value float64
}

type series struct {
	labels map[string]string
	typ    string
	points []point // in time order
}

func phaseRank(p string) int {
	switch p {
	case results.PhaseBefore:
		return 0
	case results.PhaseAfter:
		return 2
	}
	return 1
}

// NewWindow indexes rows (in any order) of one experiment.
func NewWindow(rows []results.ServerMetric) *Window {
	w := &Window{series: map[string][]*series{}, gridTimes: map[string][]int64{}}
	byKey := map[string]*series{}
	seen := map[scrapeKey]bool{}
	for i := range rows {
		r := &rows[i]
		at := scrapeKey{phase: phaseRank(r.Phase), seq: r.Scrape, time: r.TimeUnixNs}
		if strings.HasPrefix(r.Name, "llmscale:") {
			w.noteOwn(r, at, seen)
			continue
		}
		k := r.Name + "{" + r.Labels + "}"
		s := byKey[k]
		if s == nil {
			s = &series{labels: r.LabelMap, typ: r.Type}
			byKey[k] = s
			w.series[r.Name] = append(w.series[r.Name], s)
		}
		s.points = append(s.points, point{at: at, value: r.Value})
	}
	for _, ss := range w.series {
		for _, s := range ss {
			sort.SliceStable(s.points, func(i, j int) bool { return s.points[i].at.less(s.points[j].at) })
		}
	}
	sort.Slice(w.scrapes, func(i, j int) bool { return w.scrapes[i].less(w.scrapes[j]) })
	return w
}

func (w *Window) noteOwn(r *results.ServerMetric, at scrapeKey, seen map[scrapeKey]bool) {
	if r.Name != MetricScrapeUp {
		return
	}
	ok := r.Value == 1
	switch at.phase {
	case 0:
		w.beforeOK = w.beforeOK || ok
	case 2:
		w.afterOK = w.afterOK || ok
	default:
		w.grid++
		w.gridTimes[r.Labels] = append(w.gridTimes[r.Labels], r.TimeUnixNs)
		if !ok {
			w.gridFailed++
		}
	}
	if ok && !seen[at] {
		seen[at] = true
		w.scrapes = append(w.scrapes, at)
	}
}

// Filter selects series by their labels; nil selects all.
type Filter func(labels map[string]string) bool

// LabelIs selects series whose label name has value.
func LabelIs(name, value string) Filter {
	return func(ls map[string]string) bool { return ls[name] == value }
}

// Increase is a counter's growth over the window, summed over the selected series.
type Increase struct {
	Value  float64
	Series int  // series summed
	Resets int  // counter resets seen (a value below the previous one: the server restarted)
	Exact  bool // both snapshots succeeded, so the window is covered from end to end
}

// Increase sums, over the series called name that filter selects (e.g. all engines), the
// growth from the before snapshot to the after snapshot. A value below its predecessor is a
// reset (the server restarted): the growth then counts from zero, as Prometheus' increase()
// does. A series absent from a successful before snapshot starts at zero; without a before
// snapshot the first value seen is the baseline and Exact is false. Works for histogram _sum
// and _count series too.
func (w *Window) Increase(name string, filter Filter) Increase {
	inc := Increase{Exact: w.beforeOK && w.afterOK}
	for _, s := range w.series[name] {
		if filter != nil && !filter(s.labels) {
			continue
		}
		v, resets := w.growth(s)
		inc.Value += v
		inc.Resets += resets
		inc.Series++
	}
	return inc
}

func (w *Window) growth(s *series) (float64, int) {
	if len(s.points) == 0 {
		return 0, 0
	}
	prev, total, resets := s.points[0].value, 0.0, 0
	if w.beforeOK && s.points[0].at.phase != 0 {
		prev = 0 // created after the before snapshot: it grew from zero
	}
	for _, p := range s.points {
		switch {
		case math.IsNaN(p.value):
			continue
		case p.value >= prev:
			total += p.value - prev
		default:
			resets++
			total += p.value
		}
		prev = p.value
	}
	return total, resets
}

// Restarts counts the scrapes at which a counter of the server went down: each is a restart
// of the server (or of one engine) inside the window. Counters are the series of type counter
// and the _count series of histograms and summaries.
func (w *Window) Restarts() int {
	at := map[scrapeKey]bool{}
	for name, ss := range w.series {
		for _, s := range ss {
			isCount := strings.HasSuffix(name, "_count") && (s.typ == TypeHistogram || s.typ == TypeSummary)
			if s.typ != TypeCounter && !isCount {
				continue
			}
			for i := 1; i < len(s.points); i++ {
				if s.points[i].value < s.points[i-1].value {
					at[s.points[i].at] = true
				}
			}
		}
	}
	return len(at)
}

// IncreaseBy is Increase split by the value of one label (e.g. finished_reason), summed over
// the other labels.
func (w *Window) IncreaseBy(name, label string) map[string]float64 {
	out := map[string]float64{}
	for _, s := range w.series[name] {
		v, _ := w.growth(s)
		out[s.labels[label]] += v
	}
	return out
}

// HistogramMean is ΣΔsum / ΣΔcount of the histogram family name over the window, summed over
// the series filter selects: the mean observation per event (e.g. mean queue time per
// request). ok is false when nothing was observed.
func (w *Window) HistogramMean(name string, filter Filter) (mean, count float64, ok bool) {
	sum := w.Increase(name+"_sum", filter)
	n := w.Increase(name+"_count", filter)
	if n.Value <= 0 {
		return math.NaN(), 0, false
	}
	return sum.Value / n.Value, n.Value, true
}
