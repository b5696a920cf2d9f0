// Package tokenizer encodes text as a model's tokenizer does, in pure Go, from the files
// models ship: a Hugging Face tokenizer.json with a BPE model (byte-level as GPT-2 and Llama 3,
// or SentencePiece-style with byte fallback as Llama 2 and Mistral), a Unigram model (T5-style
// SentencePiece) or a WordPiece model (BERT), or a tiktoken rank file (gpt2/r50k, p50k, cl100k,
// o200k). The steps run as Hugging Face's tokenizers runs them: added tokens, normaliser,
// pre-tokenizer, model, post-processor. llmscale uses it for prompt lengths and synthetic prompts
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
	norm     func(string) string // normaliser (nil: none)
	pre      []preStep           // pre-tokenizer steps in order (none: the text is one piece)
	model    model
	raw      []special // added tokens matched in the text before the normaliser
	normed   []special // added tokens matched in the normalised text (normalized: true)
	bos, eos []int     // what the post-processor adds around a single sequence
}

// model turns one pre-tokenized piece into ids (BPE, Unigram, WordPiece).
type model interface {
	encode(piece string, out []int) []int
}

// piece is a pre-tokenizer's unit of text; start is true for the piece that begins the input
// (Metaspace's prepend_scheme "first" looks at it).
type piece struct {
	text  string
	start bool
}

// preStep is one pre-tokenizer: it cuts (and may rewrite) every piece.
type preStep func([]piece) []piece

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
	splitAdded(text, t.raw, &out, func(section string, first bool) {
		if t.norm != nil {
			section = t.norm(section)
		}
		splitAdded(section, t.normed, &out, func(p string, f bool) { out = t.encodeNormalized(p, first && f, out) })
	})
	return out
}

// Count is the number of tokens a server sees for text as a completions prompt: Encode plus the
// post-processor's special tokens (Llama 3's <|begin_of_text|>, Llama 2's <s>).
func (t *Tokenizer) Count(text string) int { return len(t.bos) + len(t.Encode(text)) + len(t.eos) }

// encodeNormalized encodes normalised text without added tokens; start tells whether it
// begins the input.
func (t *Tokenizer) encodeNormalized(text string, start bool, out []int) []int {
	pieces := []piece{{text: text, start: start}}
	for _, step := range t.pre {
		pieces = step(pieces)
	}
	for _, p := range pieces {
		if p.text != "" {
			out = t.model.encode(p.text, out)
		}
	}
	return out
}
