package workload

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Kinds of the datasets beyond text, ShareGPT and plain random (docs/datasets.md).
const (
	KindSonnet    = "sonnet"    // sonnet:PATH:IN:OUT[:prefix=K] — vLLM's sonnet dataset
	KindTrace     = "trace"     // trace:PATH — arrival offsets and lengths (CSV or JSONL), replayed open-loop
	KindMultiTurn = "multiturn" // multiturn:PATH — ShareGPT conversations, every turn with its history
)

// Length distributions of random prompts (random:IN:OUT:range=R:dist=D).
const (
	DistUniform = "uniform" // vLLM's --random-range-ratio: uniform in [L·(1−R), L·(1+R)]
	DistNormal  = "normal"  // mean L, standard deviation L·R, clipped to [1, 2L]
)

// Shape is how random prompts vary: a length range and distribution, and shared prefixes.
// The zero value is vLLM's default random dataset: exact lengths, no prefix.
type Shape struct {
	RangeRatio   float64 `json:"range_ratio,omitempty"`   // 0 ≤ R < 1
	Dist         string  `json:"dist,omitempty"`          // DistUniform ("" is uniform) or DistNormal
	PrefixTokens int     `json:"prefix_tokens,omitempty"` // tokens of a prefix shared by prompts
	Prefixes     int     `json:"prefixes,omitempty"`      // distinct prefixes (0: one when PrefixTokens > 0)
}

// parseOptions reads key=value parts after the positional ones of a dataset level.
func parseOptions(level string, parts []string, allowed ...string) (map[string]string, error) {
	opts := map[string]string{}
	for _, p := range parts {
		k, v, ok := strings.Cut(p, "=")
		known := false
		for _, a := range allowed {
			known = known || a == k
		}
		if !ok || !known {
			return nil, fmt.Errorf("%q: %q is not an option (want %s as key=value)", level, p, strings.Join(allowed, ", "))
		}
		if _, dup := opts[k]; dup {
			return nil, fmt.Errorf("%q: %s given twice", level, k)
		}
		opts[k] = v
	}
	return opts, nil
}

// shapeOf reads range=, dist=, prefix= and prefixes= into a Shape.
func shapeOf(level string, opts map[string]string) (Shape, error) {
	var s Shape
	var err error
	if v, ok := opts["range"]; ok {
		if s.RangeRatio, err = strconv.ParseFloat(v, 64); err != nil || !(s.RangeRatio >= 0 && s.RangeRatio < 1) {
			return s, fmt.Errorf("%q: range=%s: want a ratio 0 ≤ R < 1 (vLLM's --random-range-ratio: random:IN or random:IN:OUT, then :R)", level, v)
		}
	}
	if v, ok := opts["dist"]; ok {
		if v != DistUniform && v != DistNormal {
			return s, fmt.Errorf("%q: dist=%s: want uniform or normal", level, v)
		}
		if _, hasRange := opts["range"]; !hasRange {
			return s, fmt.Errorf("%q: dist=%s needs range=R (the spread)", level, v)
		}
		s.Dist = v
	}
	for key, dst := range map[string]*int{"prefix": &s.PrefixTokens, "prefixes": &s.Prefixes} {
		if v, ok := opts[key]; ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > MaxRandomTokens {
				return s, fmt.Errorf("%q: %s=%s: want a whole number from 1 to %d", level, key, v, MaxRandomTokens)
			}
			*dst = n
		}
	}
	if s.Prefixes > 0 && s.PrefixTokens == 0 {
		return s, fmt.Errorf("%q: prefixes=%d needs prefix=K (the shared prefix's tokens)", level, s.Prefixes)
	}
	return s, nil
}

// name is a short, id-safe suffix for the shape: "r0.5", "r0.5n", "p256", "p256x4".
func (s Shape) name() string {
	var b strings.Builder
	if s.RangeRatio > 0 {
		b.WriteString("r" + strconv.FormatFloat(s.RangeRatio, 'g', -1, 64))
		if s.Dist == DistNormal {
			b.WriteString("n")
		}
	}
	if s.PrefixTokens > 0 {
		fmt.Fprintf(&b, "p%d", s.PrefixTokens)
		if s.Prefixes > 1 {
			fmt.Fprintf(&b, "x%d", s.Prefixes)
		}
	}
	return b.String()
}

// length draws a length around l with the shape's range and distribution; at least 1.
func (s Shape) length(rng *rand.Rand, l int) int {
	if s.RangeRatio == 0 || l == 0 {
		return l
	}
	if s.Dist == DistNormal {
		v := math.Round(float64(l) + rng.NormFloat64()*float64(l)*s.RangeRatio)
		return int(min(max(v, 1), float64(2*l)))
	}
	lo := max(1, int(math.Floor(float64(l)*(1-s.RangeRatio))))
	hi := int(math.Ceil(float64(l) * (1 + s.RangeRatio)))
	return lo + rng.IntN(hi-lo+1)
}

// randomShaped makes count prompts of random tokens (or words for the chat API) whose input
// and output lengths follow the shape, each starting with one of the shape's shared prefixes
// (assigned in turn). Prompt.Tokens is the whole length, prefix included, as vLLM counts it.
func randomShaped(src Source, rng *rand.Rand, opts Options) []Prompt {
	n := opts.Count
	if n <= 0 {
		n = DefaultSyntheticCount
	}
	prefixes := make([][]int, max(src.Shape.Prefixes, 1))
	for i := range prefixes {
		prefixes[i] = randomIDs(rng, src.Shape.PrefixTokens, opts.VocabSize)
	}
	words := strings.Fields(syntheticVocabulary)
	out := make([]Prompt, n)
	for i := range out {
		in := src.Shape.length(rng, src.InTokens)
		ids := append(append([]int(nil), prefixes[i%len(prefixes)]...), randomIDs(rng, in, opts.VocabSize)...)
		p := Prompt{Tokens: len(ids), MaxTokens: src.Shape.length(rng, src.OutTokens)}
		if opts.TextOnly {
			text := make([]string, len(ids))
			for j, id := range ids {
				text[j] = words[id%len(words)] // the same ids give the same words: prefixes stay shared
			}
			p.Text, p.Synthetic = strings.Join(text, " "), true
		} else {
			p.TokenIDs = ids
		}
		out[i] = p
	}
	return out
}

// randomIDs draws n ids inside the vocabulary (TokenRange).
func randomIDs(rng *rand.Rand, n, vocabSize int) []int {
	lo, hi := TokenRange(vocabSize)
	ids := make([]int, n)
	for j := range ids {
		ids[j] = lo + rng.IntN(hi-lo)
	}
	return ids
}
