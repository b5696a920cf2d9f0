package workload

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
)

// sonnetInstruction opens every sonnet prompt, as in vLLM's SonnetDataset.
const sonnetInstruction = "Pick as many lines as you can from these poem lines:\n"

// loadDataset reads the file of a sonnet, trace or multi-turn source.
func loadDataset(src Source, rng *rand.Rand, opts Options) ([]Prompt, error) {
	data, err := os.ReadFile(src.Path)
	if err != nil {
		return nil, fmt.Errorf("prompts %s: %w", src.Name, err)
	}
	var prompts []Prompt
	switch src.Kind {
	case KindSonnet:
		prompts, err = sonnetPrompts(data, src, rng, opts)
	case KindTrace:
		prompts, err = tracePrompts(data, rng, opts)
	default:
		prompts, err = parseMultiTurn(data, countsOf(opts.Tokenizer))
	}
	if err != nil {
		return nil, fmt.Errorf("prompts %s: %s: %w", src.Name, src.Path, err)
	}
	if len(prompts) == 0 {
		return nil, fmt.Errorf("prompts %s: %s holds no prompts", src.Name, src.Path)
	}
	return prompts, nil
}

// sonnetPrompts follows vLLM's SonnetDataset: the instruction, the file's first lines as a
// prefix every prompt shares (about PrefixTokens), then lines drawn at random until the prompt
// holds about InTokens. Line counts come from the mean tokens of a line, as vLLM does, so
// lengths are near IN, not exact; Prompt.Tokens is the count of the prompt as made.
func sonnetPrompts(data []byte, src Source, rng *rand.Rand, opts Options) ([]Prompt, error) {
	count := countsOf(opts.Tokenizer).reply // text alone, no special tokens
	var lines []string
	total := 0
	for _, l := range splitLines(data) {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, l+"\n")
			total += count(l)
		}
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("no lines of text")
	}
	avg := float64(total) / float64(len(lines))
	base := count(sonnetInstruction)
	if src.InTokens <= base {
		return nil, fmt.Errorf("input length %d is not longer than the instruction (%d tokens)", src.InTokens, base)
	}
	nIn := max(1, int(math.Round(float64(src.InTokens-base)/avg)))
	nPrefix := min(len(lines), max(0, int(math.Round(float64(src.PrefixTokens-base)/avg))))
	if src.PrefixTokens == 0 {
		nPrefix = 0
	}
	prefix := sonnetInstruction + strings.Join(lines[:nPrefix], "")
	n := opts.Count
	if n <= 0 {
		n = DefaultSyntheticCount
	}
	out := make([]Prompt, n)
	for i := range out {
		var b strings.Builder
		b.WriteString(prefix)
		for range max(0, nIn-nPrefix) {
			b.WriteString(lines[rng.IntN(len(lines))])
		}
		text := b.String()
		out[i] = Prompt{Text: text, Tokens: countsOf(opts.Tokenizer).prompt(text), MaxTokens: src.OutTokens}
	}
	return out, nil
}
