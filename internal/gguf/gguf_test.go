package gguf

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func tinyModel(t testing.TB, seed uint64) []byte {
	t.Helper()
	s, err := ShapeOf("tiny")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := (Model{Name: "t", Shape: s, Seed: seed}).Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestModelRoundTrip(t *testing.T) {
	t.Parallel()
	data := tinyModel(t, 7)
	f, err := Read(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	s, _ := ShapeOf("tiny")
	if want := 2 + 9*s.Layers + 1; len(f.Tensors) != want {
		t.Fatalf("tensors: got %d, want %d", len(f.Tensors), want)
	}
	for key, want := range map[string]uint64{"llama.vocab_size": 1024, "llama.block_count": 2, "llama.embedding_length": 64,
		"llama.attention.head_count_kv": 2, "tokenizer.ggml.eos_token_id": EOSID, "llmscale.random_seed": 7} {
		if got, ok := f.Uint(key); !ok || got != want {
			t.Errorf("%s: got %d (present %v), want %d", key, got, ok, want)
		}
	}
	if v, _ := f.Get("tokenizer.ggml.model"); v != "llama" {
		t.Errorf("tokenizer.ggml.model: got %v", v)
	}
	toks, _ := f.Get("tokenizer.ggml.tokens")
	if got := len(toks.([]string)); got != 1024 {
		t.Errorf("tokens: got %d, want 1024", got)
	}
	last := f.Tensors[len(f.Tensors)-1]
	if end := f.DataOffset + last.Offset + last.Bytes(); end != uint64(len(data)) {
		t.Errorf("data ends at %d, file is %d bytes", end, len(data))
	}
	checkOutputRows(t, f, data)
}

// checkOutputRows reads output.weight back: banned tokens have −8 on dimension 0 and zeros
// elsewhere; text pieces have 0 on dimension 0 and random weights elsewhere.
func checkOutputRows(t *testing.T, f *File, data []byte) {
	t.Helper()
	var out TensorInfo
	for _, ti := range f.Tensors {
		if ti.Name == "output.weight" {
			out = ti
		}
	}
	cols := int(out.Dims[0])
	row := func(tok int) []uint16 {
		at := int(f.DataOffset+out.Offset) + 2*cols*tok
		v := make([]uint16, cols)
		for i := range v {
			v[i] = binary.LittleEndian.Uint16(data[at+2*i:])
		}
		return v
	}
	for _, tok := range []int{0, EOSID, FirstByte + 10, FirstPiece - 1} {
		r := row(tok)
		if r[0] != Float16(-bannedWeight) || r[1] != 0 || r[cols-1] != 0 {
			t.Errorf("output row of banned token %d: got %#04x %#04x … %#04x", tok, r[0], r[1], r[cols-1])
		}
	}
	r := row(FirstPiece + 3)
	if r[0] != 0 || r[1] == 0 || r[2] == 0 {
		t.Errorf("output row of text token: got %#04x %#04x %#04x, want 0 then random", r[0], r[1], r[2])
	}
}

func TestModelDeterministic(t *testing.T) {
	t.Parallel()
	a, b, c := tinyModel(t, 1), tinyModel(t, 1), tinyModel(t, 2)
	if !bytes.Equal(a, b) {
		t.Error("the same seed wrote different bytes")
	}
	if bytes.Equal(a, c) {
		t.Error("seeds 1 and 2 wrote the same bytes")
	}
}

func TestReadFileTruncated(t *testing.T) {
	t.Parallel()
	data := tinyModel(t, 1)
	path := filepath.Join(t.TempDir(), "m.gguf")
	if err := os.WriteFile(path, data[:len(data)-100], 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadFile(path)
	if err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("got %v, want an error saying the file is truncated", err)
	}
}

func header(version uint32, tensors, kvs uint64) []byte {
	b := []byte(Magic)
	b = binary.LittleEndian.AppendUint32(b, version)
	b = binary.LittleEndian.AppendUint64(b, tensors)
	return binary.LittleEndian.AppendUint64(b, kvs)
}

func TestReadErrors(t *testing.T) {
	t.Parallel()
	str := func(b []byte, s string) []byte {
		return append(binary.LittleEndian.AppendUint64(b, uint64(len(s))), s...)
	}
	kv := func(key string, typ uint32, rest ...byte) []byte {
		b := str(header(3, 0, 1), key)
		return append(binary.LittleEndian.AppendUint32(b, typ), rest...)
	}
	tensor := func(dims uint32, rest ...byte) []byte {
		b := str(header(3, 1, 0), "x")
		return append(binary.LittleEndian.AppendUint32(b, dims), rest...)
	}
	huge := binary.LittleEndian.AppendUint64(nil, 1<<40)
	cases := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "truncated"},
		{"magic", []byte("GGML\x03\x00\x00\x00"), "not a GGUF file"},
		{"version", header(2, 0, 0), "version 2"},
		{"tensor count", header(3, 1<<40, 0), "tensors, more than"},
		{"truncated key", header(3, 0, 1), "truncated"},
		{"long string", append(header(3, 0, 1), huge...), "string of"},
		{"unknown type", kv("k", 99), "unknown value type 99"},
		{"huge array", kv("k", uint32(TypeArray), append([]byte{4, 0, 0, 0}, huge...)...), "array of 1099511627776"},
		{"nested array", kv("k", uint32(TypeArray), append([]byte{9, 0, 0, 0}, huge...)...), "not supported"},
		{"array cut", kv("k", uint32(TypeArray), 4, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 1, 0), "truncated"},
		{"no dims", tensor(0), "0 dimensions"},
		{"zero dim", tensor(1, 0, 0, 0, 0, 0, 0, 0, 0), "zero or overflows"},
		{"bad alignment", kv("general.alignment", uint32(TypeUint32), 3, 0, 0, 0), "power of two"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := Read(bytes.NewReader(c.in))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
}

func TestWriteRejects(t *testing.T) {
	t.Parallel()
	data := func(w io.Writer) error { _, err := w.Write(make([]byte, 4)); return err }
	cases := []struct {
		name    string
		kvs     []KV
		tensors []Tensor
		want    string
	}{
		{"value type", []KV{{"k", struct{}{}}}, nil, "unsupported value type"},
		{"tensor type", nil, []Tensor{{Info: TensorInfo{Name: "x", Dims: []uint64{1}, Type: 8}, Data: data}}, "type 8"},
		{"twice", nil, []Tensor{{Info: TensorInfo{Name: "x", Dims: []uint64{1}}, Data: data},
			{Info: TensorInfo{Name: "x", Dims: []uint64{1}}, Data: data}}, "named twice"},
		{"short data", nil, []Tensor{{Info: TensorInfo{Name: "x", Dims: []uint64{2}}, Data: data}}, "wrote 4 bytes, want 8"},
		{"no data", nil, []Tensor{{Info: TensorInfo{Name: "x", Dims: []uint64{2}}}}, "no data"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err := Write(io.Discard, c.kvs, c.tensors)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
}

func TestWriteReadValues(t *testing.T) {
	t.Parallel()
	kvs := []KV{{"u8", uint8(1)}, {"i8", int8(-2)}, {"u16", uint16(3)}, {"i16", int16(-4)}, {"u32", uint32(5)},
		{"i32", int32(-6)}, {"f32", float32(1.5)}, {"b", true}, {"s", "x"}, {"u64", uint64(7)}, {"i64", int64(-8)},
		{"f64", 2.5}, {"as", []string{"a", "b"}}, {"af", []float32{1, 2}}, {"ai", []int32{-1}}, {"empty", []string{}}}
	var b bytes.Buffer
	if err := Write(&b, kvs, nil); err != nil {
		t.Fatal(err)
	}
	f, err := Read(&b)
	if err != nil {
		t.Fatal(err)
	}
	for i, kv := range kvs {
		got := f.KVs[i]
		if got.Key != kv.Key || !equalValue(got.Value, kv.Value) {
			t.Errorf("kv %d: got %s=%#v, want %s=%#v", i, got.Key, got.Value, kv.Key, kv.Value)
		}
	}
}

func equalValue(a, b any) bool {
	ea, oka := arrayElems(a)
	eb, okb := arrayElems(b)
	if oka != okb {
		return false
	}
	if !oka {
		return a == b
	}
	if len(ea) != len(eb) {
		return false
	}
	for i := range ea {
		if ea[i] != eb[i] {
			return false
		}
	}
	return true
}

func TestFloat16(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   float32
		want uint16
	}{
		{0, 0}, {1, 0x3c00}, {-2, 0xc000}, {0.5, 0x3800}, {65504, 0x7bff}, {65520, 0x7c00}, {1e6, 0x7c00},
		{float32(math.Inf(-1)), 0xfc00}, {5.960464477539063e-08, 0x0001}, {6.103515625e-05, 0x0400},
		{1e-9, 0}, {1.0009765625, 0x3c01}, {1.00048828125, 0x3c00}, {1.00146484375, 0x3c02},
	}
	for _, c := range cases {
		if got := Float16(c.in); got != c.want {
			t.Errorf("Float16(%g): got %#04x, want %#04x", c.in, got, c.want)
		}
	}
	if got := Float16(float32(math.NaN())); got&0x7c00 != 0x7c00 || got&0x3ff == 0 {
		t.Errorf("Float16(NaN): got %#04x, want a NaN", got)
	}
}

func TestVocabulary(t *testing.T) {
	t.Parallel()
	for _, n := range []int{FirstPiece + 128, 1024, 32000} {
		toks, scores, types := Vocabulary(n)
		if len(toks) != n || len(scores) != n || len(types) != n {
			t.Fatalf("n=%d: got %d tokens, %d scores, %d types", n, len(toks), len(scores), len(types))
		}
		seen := map[string]bool{}
		for id, tok := range toks {
			if seen[tok] {
				t.Fatalf("n=%d: token %q twice", n, tok)
			}
			seen[tok] = true
			if (types[id] == tokenByte) != (id >= FirstByte && id < FirstPiece) {
				t.Errorf("n=%d: token %d %q has type %d", n, id, tok, types[id])
			}
		}
		for _, tok := range toks[FirstPiece:] {
			r := []rune(tok)
			if len(r) > 1 && !seen[string(r[:len(r)-1])] {
				t.Errorf("n=%d: piece %q has no prefix piece, so SentencePiece cannot reach it", n, tok)
			}
		}
	}
	if toks, _, _ := Vocabulary(300); toks[FirstByte+0x0a] != "<0x0A>" {
		t.Errorf("byte token 0x0a: got %q", toks[FirstByte+0x0a])
	}
}

func TestShapeValidate(t *testing.T) {
	t.Parallel()
	good, _ := ShapeOf("tiny")
	bad := func(f func(*Shape)) Shape { s := good; f(&s); return s }
	for _, s := range []Shape{bad(func(s *Shape) { s.Vocab = 10 }), bad(func(s *Shape) { s.Heads = 3 }),
		bad(func(s *Shape) { s.KVHeads = 3 }), bad(func(s *Shape) { s.Layers = 0 })} {
		if s.Validate() == nil {
			t.Errorf("shape %+v: want an error", s)
		}
	}
	if _, err := ShapeOf("huge"); err == nil || !strings.Contains(err.Error(), "tiny") {
		t.Errorf("unknown size: got %v, want an error listing the sizes", err)
	}
	if err := (Model{Shape: bad(func(s *Shape) { s.Vocab = 10 })}).Write(io.Discard); err == nil {
		t.Error("Write of a bad shape: want an error")
	}
}

func FuzzRead(f *testing.F) {
	data := tinyModel(f, 1)
	f.Add(data[:4096])
	f.Add(header(3, 0, 0))
	f.Add(data[:200])
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := Read(bytes.NewReader(in))
		if err != nil {
			if got != nil {
				t.Fatal("a value with an error")
			}
			return
		}
		for _, ti := range got.Tensors {
			if len(ti.Dims) == 0 || len(ti.Dims) > maxDims || ti.Offset%got.Alignment != 0 {
				t.Fatalf("accepted a bad tensor %+v", ti)
			}
		}
		if got.DataOffset%got.Alignment != 0 || got.DataOffset > uint64(len(in))+got.Alignment {
			t.Fatalf("data offset %d for %d bytes", got.DataOffset, len(in))
		}
	})
}

func TestModelWorkersSameBytes(t *testing.T) {
	t.Parallel()
	s, _ := ShapeOf("tiny")
	s.Vocab = 20000 // token_embd and output span several chunks
	var one, four bytes.Buffer
	if err := (Model{Name: "t", Shape: s, Seed: 5, Workers: 1}).Write(&one); err != nil {
		t.Fatal(err)
	}
	if err := (Model{Name: "t", Shape: s, Seed: 5, Workers: 4}).Write(&four); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(one.Bytes(), four.Bytes()) {
		t.Error("1 and 4 workers wrote different bytes")
	}
}

func TestOrderedWriteError(t *testing.T) {
	t.Parallel()
	gen := func(i int) []byte { return []byte{byte(i)} }
	var b bytes.Buffer
	if err := ordered(50, 3, gen, &b); err != nil || b.Len() != 50 || b.Bytes()[49] != 49 {
		t.Fatalf("ordered: %v, %d bytes", err, b.Len())
	}
	if err := ordered(50, 3, gen, failWriter{}); err == nil {
		t.Fatal("a write error was lost")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }
