package gguf

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
)

// How the random weights are drawn, so any output decodes and never ends early:
//   - Hidden dimension 0 of the residual stream is a constant: every token embedding holds
//     residualConst·√E there, and the layers' output projections (attn_output, ffn_down) never
//     write to it. After the final RMS norm that dimension is therefore a large positive
//     number for every position.
//   - The output rows of banned tokens (specials, bytes) are −bannedWeight on dimension 0 and 0
//     elsewhere, so their logits are tens of units below every text piece's: they are never
//     sampled, whatever the sampler. Text pieces have 0 there and random weights elsewhere.
//   - The layers' own contributions are small (outputStd), so dimension 0 keeps dominating
//     through any number of layers.
const (
	residualConst = 0.25
	embeddingStd  = 0.02
	inputStd      = 0.5  // × 1/√fan-in: q, k, v, gate, up
	outputStd     = 0.05 // × 1/√fan-in: attn_output, ffn_down
	logitStd      = 5.0  // × 1/√E: output rows of text pieces
	bannedWeight  = 8.0
)

// rowFill fills one row (ne[0] values) of a tensor.
type rowFill func(rng *rand.Rand, row int, v []float32)

func uniform(rng *rand.Rand, v []float32, std float64) {
	a := float32(std * math.Sqrt(3))
	for i := range v {
		v[i] = (rng.Float32()*2 - 1) * a
	}
}

func ones(_ *rand.Rand, _ int, v []float32) {
	for i := range v {
		v[i] = 1
	}
}

func random(std float64) rowFill {
	return func(rng *rand.Rand, _ int, v []float32) { uniform(rng, v, std) }
}

// outputProjection is random except output row 0, so the layer never writes dimension 0.
func outputProjection(fanIn int) rowFill {
	return func(rng *rand.Rand, row int, v []float32) {
		uniform(rng, v, outputStd/math.Sqrt(float64(fanIn)))
		if row == 0 {
			clear(v)
		}
	}
}

func embedding(e int) rowFill {
	return func(rng *rand.Rand, _ int, v []float32) {
		uniform(rng, v, embeddingStd)
		v[0] = float32(residualConst * math.Sqrt(float64(e)))
	}
}

func logits(e int) rowFill {
	return func(rng *rand.Rand, tok int, v []float32) {
		if Banned(tok) {
			clear(v)
			v[0] = -bannedWeight
			return
		}
		uniform(rng, v, logitStd/math.Sqrt(float64(e)))
		v[0] = 0
	}
}

// tensors lists the model's tensors in llama.cpp's names and ggml dimension order.
func (m Model) tensors() []Tensor {
	s := m.Shape
	e, f, kv := uint64(s.Embedding), uint64(s.FFN), uint64(s.kvDim())
	in := func(fanIn uint64) rowFill { return random(inputStd / math.Sqrt(float64(fanIn))) }
	var out []Tensor
	add := func(name string, t TensorType, fill rowFill, dims ...uint64) {
		out = append(out, m.tensor(len(out), TensorInfo{Name: name, Dims: dims, Type: t}, fill))
	}
	add("token_embd.weight", F16, embedding(s.Embedding), e, uint64(s.Vocab))
	for i := range s.Layers {
		p := fmt.Sprintf("blk.%d.", i)
		add(p+"attn_norm.weight", F32, ones, e)
		add(p+"attn_q.weight", F16, in(e), e, e)
		add(p+"attn_k.weight", F16, in(e), e, kv)
		add(p+"attn_v.weight", F16, in(e), e, kv)
		add(p+"attn_output.weight", F16, outputProjection(s.Embedding), e, e)
		add(p+"ffn_norm.weight", F32, ones, e)
		add(p+"ffn_gate.weight", F16, in(e), e, f)
		add(p+"ffn_up.weight", F16, in(e), e, f)
		add(p+"ffn_down.weight", F16, outputProjection(s.FFN), f, e)
	}
	add("output_norm.weight", F32, ones, e)
	add("output.weight", F16, logits(s.Embedding), e, uint64(s.Vocab))
	return out
}

// chunkBytes is about how much of a tensor one generator fills at a time.
const chunkBytes = 1 << 20

// tensor makes a tensor whose rows are filled chunk by chunk, each chunk from a generator
// seeded by the model's seed, the tensor's index and the chunk's: the same seed writes the same
// bytes however many chunks are filled at once.
func (m Model) tensor(index int, info TensorInfo, fill rowFill) Tensor {
	return Tensor{Info: info, Data: func(w io.Writer) error {
		cols := int(info.Dims[0])
		rows := int(info.Elements()) / cols
		rowBytes := cols * int(info.Type.elemSize())
		per := max(1, chunkBytes/rowBytes)
		chunks := (rows + per - 1) / per
		gen := func(c int) []byte {
			rng := rand.New(rand.NewPCG(m.Seed, uint64(index)<<32|uint64(c)))
			from, to := c*per, min(rows, (c+1)*per)
			buf := make([]byte, (to-from)*rowBytes)
			v := make([]float32, cols)
			for r := from; r < to; r++ {
				fill(rng, r, v)
				encode(buf[(r-from)*rowBytes:], v, info.Type)
			}
			return buf
		}
		return ordered(chunks, max(1, m.Workers), gen, w)
	}}
}

// ordered writes gen(0), gen(1), … gen(n-1) in order, making up to workers of them at once.
func ordered(n, workers int, gen func(int) []byte, w io.Writer) error {
	out := make([]chan []byte, n)
	for i := range out {
		out[i] = make(chan []byte, 1)
	}
	slots := make(chan struct{}, workers)
	go func() {
		for i := range n {
			slots <- struct{}{}
			go func() { out[i] <- gen(i) }()
		}
	}()
	var err error
	for i := range n {
		b := <-out[i]
		<-slots
		if err == nil {
			_, err = w.Write(b)
		}
	}
	return err
}

func encode(dst []byte, v []float32, t TensorType) {
	if t == F32 {
		for i, x := range v {
			binary.LittleEndian.PutUint32(dst[4*i:], math.Float32bits(x))
		}
		return
	}
	for i, x := range v {
		binary.LittleEndian.PutUint16(dst[2*i:], Float16(x))
	}
}

// Float16 converts to IEEE half precision, rounding to nearest even; too large becomes ±Inf,
// too small ±0 or a subnormal.
func Float16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23&0xff) - 127 + 15
	mant := b & 0x7fffff
	switch {
	case b&0x7fffffff >= 0x7f800000: // Inf or NaN
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	case exp >= 31:
		return sign | 0x7c00
	case exp <= 0:
		if exp < -10 {
			return sign
		}
		mant |= 0x800000
		shift := uint32(14 - exp)
		half := mant >> shift
		rem := mant & (1<<shift - 1)
		mid := uint32(1) << (shift - 1)
		if rem > mid || (rem == mid && half&1 == 1) {
			half++
		}
		return sign | uint16(half)
	}
	half := uint32(exp)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && half&1 == 1) {
		half++ // may carry into the exponent, which is the right answer
	}
	return sign | uint16(half)
}
