package stats

import (
	"math"
	"slices"
)

// Exact percentiles of more values than memory should hold: values are streamed several
// times (a pass), each time in the same order, and never kept all at once. The first pass
// counts them, sums them, keeps the largest and a histogram of the top 12 bits of each
// value's order key (its float bits, mapped so that unsigned order is numeric order). That
// histogram says which bucket holds each rank a percentile needs; the next pass counts the
// next 12 bits of the values in those buckets only, and so on, until a bucket is small
// enough to keep and sort (keepMax), or all 64 bits are known. Latencies take three passes,
// any values at most six. Memory is a few 32 KiB histograms and the values of a few small
// buckets, however long the run.
//
// Below sortMax values, the values are simply kept and NewStat sorts them, so that small
// runs (every test and golden file) keep NewStat's exact figures to the last bit; above it
// the mean and deviation are summed in the order the values come, not sorted order, which
// differs from NewStat's only in the last bits. The percentiles, count and maximum are
// NewStat's exactly at any size.

// DefaultSortMax is the number of values up to which a streamed Stat keeps and sorts
// them (8 MiB of float64s).
const DefaultSortMax = 1 << 20

const (
	digitBits = 12
	digits    = 1 << digitBits
	// keepMax is the most values of one rank's bucket kept to sort (128 KiB).
	keepMax = 1 << 14
)

// digit is where the next digit of a key lies once bits are known: its shift and mask (the
// last digit is shorter: 64 is no multiple of 12).
func digit(bits int) (shift int, mask uint64) {
	w := min(digitBits, 64-bits)
	return 64 - bits - w, 1<<w - 1
}

// orderKey maps a float to an unsigned key of the same order (negative values flipped).
func orderKey(x float64) uint64 {
	b := math.Float64bits(x)
	if b>>63 == 1 {
		return ^b
	}
	return b | 1<<63
}

func fromKey(k uint64) float64 {
	if k>>63 == 1 {
		return math.Float64frombits(k &^ (1 << 63))
	}
	return math.Float64frombits(^k)
}

// rankFinder narrows down the value of one rank (0-based, ascending) pass by pass.
type rankFinder struct {
	rank    int64  // rank among the values whose key starts with prefix
	prefix  uint64 // the key's top bits known so far
	bits    int    // how many
	hist    []int64
	keep    []float64 // the bucket's values, when it is small enough to sort
	keeping bool
	keepMax int64 // the most values of its bucket it keeps to sort
	done    bool
	value   float64
}

func (f *rankFinder) matches(key uint64) bool {
	return f.bits == 0 || key>>(64-f.bits) == f.prefix>>(64-f.bits)
}

func (f *rankFinder) add(x float64, key uint64) {
	if f.done || !f.matches(key) {
		return
	}
	if f.keeping {
		f.keep = append(f.keep, x)
		return
	}
	shift, mask := digit(f.bits)
	f.hist[key>>shift&mask]++
}

// narrow takes the bucket of the rank from the pass's histogram: the next digit of the key.
func (f *rankFinder) narrow(hist []int64) {
	var count int64
	shift, _ := digit(f.bits)
	for d, c := range hist {
		if f.rank < c {
			f.prefix |= uint64(d) << shift
			f.bits = 64 - shift
			count = c
			break
		}
		f.rank -= c
	}
	switch {
	case f.bits == 64:
		f.value, f.done = fromKey(f.prefix), true
	case count <= f.keepMax:
		f.keeping, f.hist = true, nil
	default:
		clear(f.hist)
	}
}

// endPass resolves what the pass determined.
func (f *rankFinder) endPass() {
	switch {
	case f.done:
	case f.keeping:
		slices.Sort(f.keep)
		f.value, f.done, f.keep = f.keep[f.rank], true, nil
	default:
		f.narrow(f.hist)
	}
}

// streamStat computes one Stat from values streamed pass by pass.
type streamStat struct {
	sortMax  int
	pass     int
	n        int64
	sum, ss  float64
	mean     float64
	max      float64
	hist     []int64   // pass 1: top digit of every value
	all      []float64 // pass 2 when n <= sortMax: every value
	finders  []*rankFinder
	at       map[int64]*rankFinder // finders by rank
	stat     Stat
	extra    []float64             // percentiles wanted beside Stat's
	extraAt  []float64             // their values, once done
	ranksOf  func(n int64) []int64 // ranks wanted beside them (0-based, ascending), from the count; nil: none
	rankVals []float64             // their values, once done
	done     bool
}

// orDefaultSortMax is sortMax, or DefaultSortMax where it is <= 0.
func orDefaultSortMax(sortMax int) int {
	if sortMax <= 0 {
		return DefaultSortMax
	}
	return sortMax
}

func newStreamStat(sortMax int) *streamStat {
	return &streamStat{sortMax: orDefaultSortMax(sortMax), pass: 1, hist: make([]int64, digits), max: math.Inf(-1)}
}

func (s *streamStat) add(x float64) {
	if s.done {
		return
	}
	key := orderKey(x)
	switch {
	case s.pass == 1:
		s.n++
		s.sum += x
		s.max = max(s.max, x)
		s.hist[key>>(64-digitBits)]++
		return
	case s.all != nil:
		s.all = append(s.all, x)
		return
	case s.pass == 2:
		s.ss += (x - s.mean) * (x - s.mean)
	}
	for _, f := range s.finders {
		f.add(x, key)
	}
}

// endPass reports whether another pass is needed.
func (s *streamStat) endPass() bool {
	if s.done {
		return false
	}
	defer func() { s.pass++ }()
	switch {
	case s.pass == 1 && s.n == 0:
		s.done = true
	case s.pass == 1 && s.n <= int64(s.sortMax):
		s.all = make([]float64, 0, s.n)
	case s.pass == 1:
		s.startFinders()
	case s.all != nil:
		s.stat, s.done = NewStat(s.all), true // sorts s.all
		for _, p := range s.extra {
			s.extraAt = append(s.extraAt, Percentile(s.all, p))
		}
		if s.ranksOf != nil {
			for _, r := range s.ranksOf(s.n) {
				s.rankVals = append(s.rankVals, s.all[r])
			}
		}
		s.all = nil
	default:
		s.done = true
		for _, f := range s.finders {
			f.endPass()
			s.done = s.done && f.done
		}
		if s.done {
			s.finish()
		}
	}
	return !s.done
}

// percentiles are the ones a Stat gives; each needs the values at two ranks.
var percentiles = [...]float64{50, 90, 95, 99}

// ranks is the two ranks Percentile reads for p of n values (the second may be n-1 again).
func ranks(p float64, n int64) (lo, hi int64, frac float64) {
	rank := p / 100 * float64(n-1)
	lo = int64(math.Floor(rank))
	if lo >= n-1 {
		return n - 1, n - 1, 0
	}
	return lo, lo + 1, rank - float64(lo)
}

func (s *streamStat) startFinders() {
	s.mean = s.sum / float64(s.n)
	s.at = map[int64]*rankFinder{}
	var want []int64
	for _, p := range append(percentiles[:], s.extra...) {
		lo, hi, _ := ranks(p, s.n)
		want = append(want, lo, hi)
	}
	if s.ranksOf != nil {
		want = append(want, s.ranksOf(s.n)...)
	}
	for _, r := range want {
		if s.at[r] == nil {
			f := &rankFinder{rank: r, hist: make([]int64, digits), keepMax: int64(min(keepMax, s.sortMax))}
			f.narrow(s.hist)
			s.at[r] = f
			s.finders = append(s.finders, f)
		}
	}
	s.hist = nil
}

// finish computes the Stat as NewStat does from the values at the ranks found.
func (s *streamStat) finish() {
	at := func(p float64) float64 {
		lo, hi, frac := ranks(p, s.n)
		if lo == hi {
			return s.at[lo].value
		}
		a, b := s.at[lo].value, s.at[hi].value
		return a + frac*(b-a)
	}
	s.stat = Stat{N: int(s.n), Mean: s.mean, Std: math.Sqrt(s.ss / float64(s.n)), Median: at(50), P90: at(90),
		P95: at(95), P99: at(99), Max: s.max}
	for _, p := range s.extra {
		s.extraAt = append(s.extraAt, at(p))
	}
	if s.ranksOf != nil {
		for _, r := range s.ranksOf(s.n) {
			s.rankVals = append(s.rankVals, s.at[r].value)
		}
	}
	s.finders, s.at = nil, nil
}

// StreamStats computes one Stat per series from values streamed in passes: pass calls
// add(i, x) for every value x of series i, the same values in the same order each time,
// and is called until every Stat is known (three times for latencies, at most six). The figures are NewStat's
// (see DefaultSortMax for the mean's last bits); memory stays bounded however many values
// there are. sortMax <= 0 is DefaultSortMax.
func StreamStats(series, sortMax int, pass func(add func(i int, x float64)) error) ([]Stat, error) {
	st := make([]*streamStat, series)
	for i := range st {
		st[i] = newStreamStat(sortMax)
	}
	if err := runPasses(st, pass); err != nil {
		return nil, err
	}
	out := make([]Stat, series)
	for i, s := range st {
		out[i] = s.stat
	}
	return out, nil
}

// StreamPercentiles is StreamStats of one series that also gives the percentiles ps (as
// Percentile of the sorted values), exact at any size; with no values they are NaN.
func StreamPercentiles(sortMax int, ps []float64, pass func(add func(x float64)) error) (Stat, []float64, error) {
	s := newStreamStat(sortMax)
	s.extra = ps
	if err := runPasses([]*streamStat{s}, func(func(int, float64)) error {
		return pass(s.add) // one series: its values go straight to s, no index to dispatch on
	}); err != nil {
		return Stat{}, nil, err
	}
	if s.n == 0 {
		nan := make([]float64, len(ps))
		for i := range nan {
			nan[i] = math.NaN()
		}
		return Stat{}, nan, nil
	}
	return s.stat, s.extraAt, nil
}

// runPasses streams the values of every series until each knows its figures.
func runPasses(st []*streamStat, pass func(add func(i int, x float64)) error) error {
	add := func(i int, x float64) { st[i].add(x) }
	for more := true; more; {
		if err := pass(add); err != nil {
			return err
		}
		more = false
		for _, s := range st {
			more = s.endPass() || more
		}
	}
	return nil
}

// streamRanks gives, for each series i, the values of ranks rank[i](n) (0-based, ascending;
// each must lie in [0, n)) among the n values that pass streams of that series: elements of
// the series exactly, as if they were sorted, never interpolations. The ranks of one series
// are found together, in the same passes. A series with no values gives NaNs.
func streamRanks(sortMax int, rank []func(n int64) []int64, pass func(add func(i int, x float64)) error) ([][]float64, error) {
	st := make([]*streamStat, len(rank))
	for i := range st {
		st[i] = newStreamStat(sortMax)
		st[i].ranksOf = rank[i]
	}
	if err := runPasses(st, pass); err != nil {
		return nil, err
	}
	out := make([][]float64, len(st))
	for i, s := range st {
		out[i] = s.rankVals
		if s.n == 0 {
			out[i] = make([]float64, len(rank[i](0)))
			for j := range out[i] {
				out[i][j] = math.NaN()
			}
		}
	}
	return out, nil
}
