package workload

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// wordCounter is a stand-in tokenizer: a word of four letters or more is two tokens, shorter
// ones one; Count adds a BOS token.
type wordCounter struct{}

func (wordCounter) Encode(text string) []int {
	var ids []int
	for _, w := range strings.Fields(text) {
		ids = append(ids, 1)
		if len(w) >= 4 {
			ids = append(ids, 2)
		}
	}
	return ids
}

func (w wordCounter) Count(text string) int { return 1 + len(w.Encode(text)) }

func TestTokenizerCounts(t *testing.T) {
	t.Parallel()
	var tok wordCounter
	// Synthetic chat prompts are fitted to their length as the tokenizer counts it.
	src, _ := Resolve("random:64:8:0.5", nil, "")
	ps, err := Load(src, rand.New(rand.NewPCG(1, 1)), Options{Count: 50, TextOnly: true, Tokenizer: tok})
	if err != nil {
		t.Fatal(err)
	}
	exact := 0
	for i, p := range ps {
		if p.Tokens != tok.Count(p.Text) {
			t.Fatalf("prompt %d: Tokens %d, but the tokenizer counts %d", i, p.Tokens, tok.Count(p.Text))
		}
		if p.Tokens-1 >= 31 && p.Tokens-1 <= 97 { // words of two tokens may leave one over or under
			exact++
		}
	}
	if exact != len(ps) {
		t.Errorf("%d of %d prompts within the drawn range once fitted", exact, len(ps))
	}
	// ShareGPT: prompt and reply lengths from the tokenizer (reply without BOS).
	data := []byte(`[{"conversations": [{"from": "human", "value": "please summarise these words"}, {"from": "gpt", "value": "sure thing here it is"}]}]`)
	got, err := parseShareGPT(data, countsOf(tok))
	if err != nil || len(got) != 1 {
		t.Fatalf("parseShareGPT: %v, %v", got, err)
	}
	if got[0].Tokens != 1+8 || got[0].MaxTokens != 8 {
		t.Errorf("ShareGPT with a tokenizer: %d prompt tokens, %d output; want 9 (with BOS) and 8", got[0].Tokens, got[0].MaxTokens)
	}
}
