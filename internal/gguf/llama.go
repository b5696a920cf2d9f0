package gguf

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Shape is the architecture of a llama-family model.
type Shape struct {
	Vocab     int // tokens, specials and byte tokens included
	Embedding int // hidden size
	Layers    int
	Heads     int
	KVHeads   int
	FFN       int // feed-forward size
	Context   int // llama.context_length
}

// Shapes are the sizes `llmscale model random --size` knows, smallest first. tiny and small
// serve on a CPU; 1b is TinyLlama-1.1B's shape and 8b Llama-3-8B's (with a 32k vocabulary).
var shapes = map[string]Shape{
	"tiny":  {Vocab: 1024, Embedding: 64, Layers: 2, Heads: 4, KVHeads: 2, FFN: 192, Context: 4096},
	"small": {Vocab: 8192, Embedding: 256, Layers: 4, Heads: 8, KVHeads: 4, FFN: 704, Context: 8192},
	"1b":    {Vocab: 32000, Embedding: 2048, Layers: 22, Heads: 32, KVHeads: 4, FFN: 5632, Context: 8192},
	"8b":    {Vocab: 32000, Embedding: 4096, Layers: 32, Heads: 32, KVHeads: 8, FFN: 14336, Context: 8192},
}

// SizeNames lists the named sizes, smallest first.
func SizeNames() []string {
	names := make([]string, 0, len(shapes))
	for n := range shapes {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return shapes[names[i]].Params() < shapes[names[j]].Params() })
	return names
}

// ShapeOf returns a named size.
func ShapeOf(name string) (Shape, error) {
	s, ok := shapes[name]
	if !ok {
		return Shape{}, fmt.Errorf("unknown model size %q (known: %s)", name, strings.Join(SizeNames(), ", "))
	}
	return s, nil
}

// Validate says what is wrong with a shape, naming the field.
func (s Shape) Validate() error {
	switch {
	case s.Vocab < FirstPiece+128:
		return fmt.Errorf("vocab %d: want at least %d (3 specials, 256 bytes, 128 pieces)", s.Vocab, FirstPiece+128)
	case s.Embedding < 8 || s.Layers < 1 || s.FFN < 1 || s.Context < 16:
		return fmt.Errorf("embedding %d, layers %d, ffn %d, context %d: want at least 8, 1, 1, 16", s.Embedding, s.Layers, s.FFN, s.Context)
	case s.Heads < 1 || s.Embedding%s.Heads != 0 || (s.Embedding/s.Heads)%2 != 0:
		return fmt.Errorf("heads %d: must divide embedding %d into an even head size", s.Heads, s.Embedding)
	case s.KVHeads < 1 || s.Heads%s.KVHeads != 0:
		return fmt.Errorf("kv heads %d: must divide heads %d", s.KVHeads, s.Heads)
	}
	return nil
}

func (s Shape) headDim() int { return s.Embedding / s.Heads }
func (s Shape) kvDim() int   { return s.headDim() * s.KVHeads }

// Params is the number of parameters (weights) of the model.
func (s Shape) Params() int64 {
	e, f, kv := int64(s.Embedding), int64(s.FFN), int64(s.kvDim())
	perLayer := 2*e + 2*e*e + 2*e*kv + 3*e*f
	return 2*int64(s.Vocab)*e + e + int64(s.Layers)*perLayer
}

// Bytes is the approximate size of the file (F16 matrices, F32 norms).
func (s Shape) Bytes() int64 { return 2 * s.Params() }

// The token ids of the vocabulary: three specials, the 256 byte tokens, then text pieces.
const (
	UnknownID  = 0
	BOSID      = 1
	EOSID      = 2
	FirstByte  = 3
	FirstPiece = FirstByte + 256
)

// Token types of llama.cpp (llama_token_type).
const (
	tokenNormal  int32 = 1
	tokenUnknown int32 = 2
	tokenControl int32 = 3
	tokenByte    int32 = 6
)

// letters in English frequency order, so the pieces made first are the likeliest ones.
const letters = "etaoinshrdlcumwfgypbvkjxqz"

// spaceMark is SentencePiece's word-start mark, which stands for a space.
const spaceMark = "\u2581"

// Vocabulary makes a SentencePiece-style ("llama" tokenizer) vocabulary of n tokens: <unk>,
// <s>, </s>, byte tokens <0x00>…<0xFF>, every printable ASCII character, then pieces of growing
// length whose every prefix is a piece (so SentencePiece's merges reach them). Scores fall with
// the id, as in llama's own vocabularies.
func Vocabulary(n int) (tokens []string, scores []float32, types []int32) {
	add := func(tok string, score float32, typ int32) {
		if len(tokens) < n {
			tokens, scores, types = append(tokens, tok), append(scores, score), append(types, typ)
		}
	}
	add("<unk>", 0, tokenUnknown)
	add("<s>", 0, tokenControl)
	add("</s>", 0, tokenControl)
	for b := range 256 {
		add(fmt.Sprintf("<0x%02X>", b), 0, tokenByte)
	}
	add(spaceMark, -1, tokenNormal)
	for c := byte('!'); c <= '~'; c++ {
		add(string(c), -float32(len(tokens)), tokenNormal)
	}
	level := []string{""}
	for len(tokens) < n {
		var next []string
		for _, p := range level {
			for _, c := range letters {
				next = append(next, p+string(c))
			}
		}
		for _, starts := range []bool{true, false} { // word starts first: they are likelier
			for _, p := range next {
				if tok := wordPiece(p, starts); len(p) > 1 || starts {
					add(tok, -float32(len(tokens)), tokenNormal)
				}
			}
		}
		level = next
	}
	return tokens, scores, types
}

func wordPiece(p string, start bool) string {
	if start {
		return spaceMark + p
	}
	return p
}

// Banned reports whether a token must never be generated: specials and byte tokens, so every
// output decodes to text and runs to max_tokens (EOS is never chosen).
func Banned(id int) bool { return id < FirstPiece }

// Model is a random-weight llama model to write.
type Model struct {
	Name    string
	Shape   Shape
	Seed    uint64
	Workers int // chunks of weights made at once (0: one); the bytes do not depend on it
}

// Write writes the model as a GGUF file.
func (m Model) Write(w io.Writer) error {
	if err := m.Shape.Validate(); err != nil {
		return fmt.Errorf("model %s: %w", m.Name, err)
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	if err := Write(bw, m.metadata(), m.tensors()); err != nil {
		return err
	}
	return bw.Flush()
}

func (m Model) metadata() []KV {
	s := m.Shape
	tokens, scores, types := Vocabulary(s.Vocab)
	return []KV{
		{"general.architecture", "llama"},
		{"general.name", m.Name},
		{"general.file_type", uint32(1)}, // mostly F16
		{"llama.vocab_size", uint32(s.Vocab)},
		{"llama.context_length", uint32(s.Context)},
		{"llama.embedding_length", uint32(s.Embedding)},
		{"llama.block_count", uint32(s.Layers)},
		{"llama.feed_forward_length", uint32(s.FFN)},
		{"llama.attention.head_count", uint32(s.Heads)},
		{"llama.attention.head_count_kv", uint32(s.KVHeads)},
		{"llama.rope.dimension_count", uint32(s.headDim())},
		{"llama.rope.freq_base", float32(10000)},
		{"llama.attention.layer_norm_rms_epsilon", float32(1e-5)},
		{"tokenizer.ggml.model", "llama"},
		{"tokenizer.ggml.tokens", tokens},
		{"tokenizer.ggml.scores", scores},
		{"tokenizer.ggml.token_type", types},
		{"tokenizer.ggml.unknown_token_id", uint32(UnknownID)},
		{"tokenizer.ggml.bos_token_id", uint32(BOSID)},
		{"tokenizer.ggml.eos_token_id", uint32(EOSID)},
		{"tokenizer.ggml.add_bos_token", true},
		{"tokenizer.ggml.add_eos_token", false},
		{"llmscale.random_seed", m.Seed},
	}
}
