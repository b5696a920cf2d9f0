package workload

import (
	"strings"

	"github.com/llmscale/llmscale/internal/tokens"
)

// counts measures a dataset's prompts and replies: tokens.Count's approximation, or a model's
// tokenizer (the prompt with its special tokens, the reply without, as vLLM counts them).
type counts struct{ prompt, reply func(string) int }

func approximate() counts { return counts{prompt: tokens.Count, reply: tokens.Count} }

func countsOf(tok Counter) counts {
	if tok == nil {
		return approximate()
	}
	return counts{prompt: tok.Count, reply: func(s string) int { return len(tok.Encode(s)) }}
}

// Counter is a model's tokenizer (internal/tokenizer): Count is a completions prompt's length
// as the server sees it (special tokens the tokenizer adds included), Encode the ids of a text
// alone.
type Counter interface {
	Count(text string) int
	Encode(text string) []int
}

// Recount sets every text prompt's length from the tokenizer, replacing tokens.Count's
// approximation (datasets with replies count those while parsing). Token-ID prompts are exact.
// Synthetic word prompts (the chat API's random, trace) are trimmed or grown, one word at a
// time, to the length they were made for, where the tokenizer allows it.
func Recount(ps []Prompt, tok Counter) {
	for i := range ps {
		p := &ps[i]
		if p.Text == "" || len(p.TokenIDs) > 0 {
			continue
		}
		if p.Synthetic {
			p.Text = fitWords(p.Text, p.Tokens, tok)
		}
		p.Tokens = tok.Count(p.Text)
	}
}

// fitWords drops or repeats words of a synthetic text until the tokenizer gives it want
// tokens (without special tokens), or gives up after a bounded number of tries and keeps the
// closest it found; the caller records the length it really has.
func fitWords(text string, want int, tok Counter) string {
	words := strings.Fields(text)
	best, bestGap := text, abs(len(tok.Encode(text))-want)
	for range 64 {
		n := len(tok.Encode(strings.Join(words, " ")))
		if n == want || len(words) == 0 {
			break
		}
		if n > want {
			words = words[:len(words)-max(1, min(len(words)-1, (n-want)/2))]
		} else {
			words = append(words, words[:min(len(words), max(1, (want-n)/2))]...)
		}
		if t := strings.Join(words, " "); abs(len(tok.Encode(t))-want) < bestGap {
			best, bestGap = t, abs(len(tok.Encode(t))-want)
		}
	}
	return best
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
