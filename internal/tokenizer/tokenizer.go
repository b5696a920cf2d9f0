// Package tokenizer encodes text as a model's tokenizer does, in pure Go, from the files
// models ship: a Hugging Face tokenizer.json with a BPE model (byte-level as GPT-2 and Llama 3,
// or SentencePiece-style with byte fallback as Llama 2 and Mistral) or a tiktoken rank file
// (gpt2/r50k, p50k, cl100k, o200k). llmscale uses it for prompt lengths and synthetic prompts
// of exact length; without one, internal/tokens' heuristic stands in and is labelled so.
package tokenizer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Tokenizer encodes text into token ids.
type Tokenizer struct {
	name     string
	vocab    int
	pre      *splitter           // pre-tokenizer: text → pieces (nil: the whole text is one piece)
	byteSyms bool                // byte-level: a piece's symbols are its bytes
	norm     func(string) string // normaliser (SentencePiece-style: spaces → ▁)
	bpe      *bpe
	specials []special // added tokens matched literally before anything else
	bos, eos []int     // what the post-processor adds around a single sequence
}

type special struct {
	text string
	id   int
}

// ErrUnsupported is returned for tokenizer files whose model or steps are not implemented.
var ErrUnsupported = errors.New("tokenizer not supported")

// Load reads a tokenizer.json (or a folder holding one) or a .tiktoken rank file.
func Load(path string) (*Tokenizer, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, "tokenizer.json")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer %s: %w", path, err)
	}
	var t *Tokenizer
	if strings.HasSuffix(strings.ToLower(path), ".json") {
		t, err = ParseHF(data)
	} else {
		t, err = ParseTiktoken(data, filepath.Base(path))
	}
	if err != nil {
		return nil, fmt.Errorf("tokenizer %s: %w", path, err)
	}
	t.name = path
	return t, nil
}

// Name is the file the tokenizer was read from.
func (t *Tokenizer) Name() string { return t.name }

// VocabSize is one more than the largest id of the vocabulary (added tokens included).
func (t *Tokenizer) VocabSize() int { return t.vocab }

// Encode encodes text without the special tokens the post-processor adds.
func (t *Tokenizer) Encode(text string) []int {
	var out []int
	for len(text) > 0 {
		at, sp := t.nextSpecial(text)
		out = t.encodeOrdinary(text[:at], out)
		if sp == nil {
			break
		}
		out = append(out, sp.id)
		text = text[at+len(sp.text):]
	}
	return out
}

// Count is the number of tokens a server sees for text as a completions prompt: Encode plus the
// post-processor's special tokens (Llama 3's <|begin_of_text|>, Llama 2's <s>).
func (t *Tokenizer) Count(text string) int { return len(t.bos) + len(t.Encode(text)) + len(t.eos) }

// nextSpecial finds the first added token in text: its offset and the token (nil: none, and
// the offset is len(text)).
func (t *Tokenizer) nextSpecial(text string) (int, *special) {
	best, at := (*special)(nil), len(text)
	for i := range t.specials {
		if j := strings.Index(text, t.specials[i].text); j >= 0 && (j < at || (j == at && best != nil && len(t.specials[i].text) > len(best.text))) {
			best, at = &t.specials[i], j
		}
	}
	return at, best
}

func (t *Tokenizer) encodeOrdinary(text string, out []int) []int {
	if text == "" {
		return out
	}
	if t.norm != nil {
		text = t.norm(text)
	}
	if t.pre == nil {
		return t.bpe.encode(t.symbols(text), out)
	}
	for _, piece := range t.pre.split(text) {
		out = t.bpe.encode(t.symbols(piece), out)
	}
	return out
}

// symbols splits a piece into the units BPE starts from: bytes for byte-level models, runes
// otherwise.
func (t *Tokenizer) symbols(piece string) []string {
	var out []string
	if t.byteSyms {
		for i := range len(piece) {
			out = append(out, piece[i:i+1])
		}
		return out
	}
	for _, r := range piece {
		out = append(out, string(r))
	}
	return out
}
