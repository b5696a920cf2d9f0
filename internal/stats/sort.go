package stats

import "slices"

// radixMin is the length from which SortFloats sorts by radix: below it slices.Sort is as
// fast and allocates nothing.
const radixMin = 512

// SortFloats sorts v ascending into the order slices.Sort gives, faster for long slices: an
// LSD radix sort of the values' order keys (orderKey: unsigned order is numeric order), 11
// bits a pass, skipping the passes whose digit every value shares (a latency's sign and
// exponent). The aggregation sorts every experiment's chunk gaps, the most values it has,
// and this is where it spends its time. Slices holding a NaN go to slices.Sort, which places
// NaNs its own way.
func SortFloats(v []float64) {
	if len(v) < radixMin {
		slices.Sort(v)
		return
	}
	keys := make([]uint64, len(v))
	for i, x := range v {
		if x != x {
			slices.Sort(v)
			return
		}
		keys[i] = orderKey(x)
	}
	keys = radixSort(keys, make([]uint64, len(v)))
	for i, k := range keys {
		v[i] = fromKey(k)
	}
}

const (
	radixBits   = 11
	radixPasses = (64 + radixBits - 1) / radixBits
	radixSize   = 1 << radixBits
)

// radixSort sorts keys using tmp (of the same length) and returns the sorted slice: keys or
// tmp.
func radixSort(keys, tmp []uint64) []uint64 {
	var counts [radixPasses][radixSize]int
	for _, k := range keys {
		for p := range radixPasses {
			counts[p][(k>>(p*radixBits))&(radixSize-1)]++
		}
	}
	for p := range radixPasses {
		shift := p * radixBits
		c := &counts[p]
		if c[(keys[0]>>shift)&(radixSize-1)] == len(keys) {
			continue // every key has this digit: the pass would change nothing
		}
		sum := 0
		for d := range c {
			c[d], sum = sum, sum+c[d]
		}
		for _, k := range keys {
			d := (k >> shift) & (radixSize - 1)
			tmp[c[d]] = k
			c[d]++
		}
		keys, tmp = tmp, keys
	}
	return keys
}
