// Package gguf writes and reads GGUF files, the model format of llama.cpp (format version 3, as
// ggml/include/gguf.h describes it): a header, typed key-value metadata, tensor descriptions,
// then the tensor data, each tensor aligned. It knows only the two tensor types llmscale
// writes (F32 and F16) and reads the metadata of any file without loading its data.
package gguf

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// Magic opens every GGUF file; Version is the format version written and read.
const (
	Magic            = "GGUF"
	Version          = 3
	DefaultAlignment = 32
)

// ValueType is the type tag of a metadata value (gguf_type).
type ValueType uint32

// The metadata value types of GGUF version 3.
const (
	TypeUint8 ValueType = iota
	TypeInt8
	TypeUint16
	TypeInt16
	TypeUint32
	TypeInt32
	TypeFloat32
	TypeBool
	TypeString
	TypeArray
	TypeUint64
	TypeInt64
	TypeFloat64
	typeCount
)

// TensorType is a ggml tensor type; llmscale writes F32 and F16 only.
type TensorType uint32

// The tensor types llmscale writes.
const (
	F32 TensorType = 0
	F16 TensorType = 1
)

// elemSize is the bytes per element of a tensor type, 0 when llmscale does not know it.
func (t TensorType) elemSize() uint64 {
	switch t {
	case F32:
		return 4
	case F16:
		return 2
	}
	return 0
}

// KV is one metadata entry. Value is one of uint8, int8, uint16, int16, uint32, int32, float32,
// bool, string, uint64, int64, float64, or a slice of one of them ([]string, []float32, []int32,
// …); arrays of arrays are not written.
type KV struct {
	Key   string
	Value any
}

// TensorInfo describes one tensor: its name, its dimensions in ggml order (ne[0], the
// contiguous one, first), its type, and where its data starts relative to the data section.
type TensorInfo struct {
	Name   string
	Dims   []uint64
	Type   TensorType
	Offset uint64
}

// Elements is the number of elements of the tensor.
func (t TensorInfo) Elements() uint64 {
	n := uint64(1)
	for _, d := range t.Dims {
		n *= d
	}
	return n
}

// Bytes is the size of the tensor's data; 0 for a type llmscale does not know.
func (t TensorInfo) Bytes() uint64 { return t.Elements() * t.Type.elemSize() }

func align(n, a uint64) uint64 { return (n + a - 1) / a * a }

// writer writes little-endian GGUF primitives and remembers the first error.
type writer struct {
	w   io.Writer
	n   uint64
	err error
	buf [8]byte
}

func (w *writer) bytes(b []byte) {
	if w.err != nil {
		return
	}
	var n int
	n, w.err = w.w.Write(b)
	w.n += uint64(n)
}

func (w *writer) u32(v uint32) { binary.LittleEndian.PutUint32(w.buf[:4], v); w.bytes(w.buf[:4]) }
func (w *writer) u64(v uint64) { binary.LittleEndian.PutUint64(w.buf[:8], v); w.bytes(w.buf[:8]) }
func (w *writer) str(s string) { w.u64(uint64(len(s))); w.bytes([]byte(s)) }

// scalar writes one scalar value and returns its type, or false for an unsupported Go type.
func (w *writer) scalar(v any) (ValueType, bool) {
	switch x := v.(type) {
	case uint8:
		w.bytes([]byte{x})
		return TypeUint8, true
	case int8:
		w.bytes([]byte{byte(x)})
		return TypeInt8, true
	case uint16:
		binary.LittleEndian.PutUint16(w.buf[:2], x)
		w.bytes(w.buf[:2])
		return TypeUint16, true
	case int16:
		binary.LittleEndian.PutUint16(w.buf[:2], uint16(x))
		w.bytes(w.buf[:2])
		return TypeInt16, true
	case uint32:
		w.u32(x)
		return TypeUint32, true
	case int32:
		w.u32(uint32(x))
		return TypeInt32, true
	case float32:
		w.u32(math.Float32bits(x))
		return TypeFloat32, true
	case bool:
		b := byte(0)
		if x {
			b = 1
		}
		w.bytes([]byte{b})
		return TypeBool, true
	case string:
		w.str(x)
		return TypeString, true
	case uint64:
		w.u64(x)
		return TypeUint64, true
	case int64:
		w.u64(uint64(x))
		return TypeInt64, true
	case float64:
		w.u64(math.Float64bits(x))
		return TypeFloat64, true
	}
	return 0, false
}

// typeOf is the type tag of a scalar Go value.
func typeOf(v any) (ValueType, bool) {
	var probe writer
	probe.err = io.ErrShortWrite // write nothing
	return probe.scalar(v)
}

// value writes the type tag and the value of one metadata entry.
func (w *writer) value(key string, v any) error {
	if t, ok := typeOf(v); ok {
		w.u32(uint32(t))
		w.scalar(v)
		return nil
	}
	elems, ok := arrayElems(v)
	if !ok {
		return fmt.Errorf("gguf key %q: unsupported value type %T", key, v)
	}
	t := TypeUint8
	if len(elems) > 0 {
		t, _ = typeOf(elems[0])
	} else if et, ok := emptyArrayType(v); ok {
		t = et
	}
	w.u32(uint32(TypeArray))
	w.u32(uint32(t))
	w.u64(uint64(len(elems)))
	for _, e := range elems {
		w.scalar(e)
	}
	return nil
}

// arrayElems spreads a slice metadata value into its elements.
func arrayElems(v any) ([]any, bool) {
	switch x := v.(type) {
	case []string:
		return spread(x), true
	case []float32:
		return spread(x), true
	case []int32:
		return spread(x), true
	case []uint32:
		return spread(x), true
	case []int64:
		return spread(x), true
	case []uint64:
		return spread(x), true
	case []float64:
		return spread(x), true
	case []bool:
		return spread(x), true
	case []uint8:
		return spread(x), true
	case []int8:
		return spread(x), true
	case []uint16:
		return spread(x), true
	case []int16:
		return spread(x), true
	}
	return nil, false
}

func spread[T any](s []T) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// emptyArrayType is the element type of an empty slice, so an empty array keeps its type.
func emptyArrayType(v any) (ValueType, bool) {
	switch v.(type) {
	case []string:
		return TypeString, true
	case []float32:
		return TypeFloat32, true
	case []int32:
		return TypeInt32, true
	}
	return 0, false
}

// Tensor is one tensor to write: its description (Offset is computed by Write) and a function
// that writes exactly Info.Bytes() of data, so a model of gigabytes is streamed, never held.
type Tensor struct {
	Info TensorInfo
	Data func(w io.Writer) error
}

// Write writes a whole GGUF file: header, metadata, tensor descriptions, then every tensor's
// data at its aligned offset.
func Write(out io.Writer, kvs []KV, tensors []Tensor) error {
	infos, err := layout(tensors)
	if err != nil {
		return err
	}
	w := &writer{w: out}
	w.bytes([]byte(Magic))
	w.u32(Version)
	w.u64(uint64(len(tensors)))
	w.u64(uint64(len(kvs)))
	for _, kv := range kvs {
		w.str(kv.Key)
		if err := w.value(kv.Key, kv.Value); err != nil {
			return err
		}
	}
	for _, in := range infos {
		w.str(in.Name)
		w.u32(uint32(len(in.Dims)))
		for _, d := range in.Dims {
			w.u64(d)
		}
		w.u32(uint32(in.Type))
		w.u64(in.Offset)
	}
	w.pad()
	start := w.n
	for i, t := range tensors {
		if w.err != nil {
			break
		}
		if err := w.tensor(t, infos[i], start); err != nil {
			return err
		}
	}
	return w.err
}

// layout checks the tensors and gives each its aligned offset in the data section.
func layout(tensors []Tensor) ([]TensorInfo, error) {
	infos := make([]TensorInfo, len(tensors))
	var off uint64
	seen := map[string]bool{}
	for i, t := range tensors {
		in := t.Info
		switch {
		case in.Type.elemSize() == 0:
			return nil, fmt.Errorf("gguf tensor %q: type %d is not one llmscale writes (F32, F16)", in.Name, in.Type)
		case len(in.Dims) == 0 || len(in.Dims) > 4:
			return nil, fmt.Errorf("gguf tensor %q: %d dimensions, want 1 to 4", in.Name, len(in.Dims))
		case seen[in.Name]:
			return nil, fmt.Errorf("gguf tensor %q: named twice", in.Name)
		case t.Data == nil:
			return nil, fmt.Errorf("gguf tensor %q: no data", in.Name)
		}
		seen[in.Name] = true
		in.Offset = off
		infos[i] = in
		off = align(off+in.Bytes(), DefaultAlignment)
	}
	return infos, nil
}

func (w *writer) pad() {
	if n := align(w.n, DefaultAlignment) - w.n; n > 0 {
		w.bytes(make([]byte, n))
	}
}

// tensor writes one tensor's data, checking that it is exactly as long as its description.
func (w *writer) tensor(t Tensor, in TensorInfo, start uint64) error {
	if w.n-start != in.Offset {
		return fmt.Errorf("gguf tensor %q: at data offset %d, want %d", in.Name, w.n-start, in.Offset)
	}
	before := w.n
	if err := t.Data(w); err != nil {
		return fmt.Errorf("gguf tensor %q: %w", in.Name, err)
	}
	if got := w.n - before; got != in.Bytes() && w.err == nil {
		return fmt.Errorf("gguf tensor %q: wrote %d bytes, want %d", in.Name, got, in.Bytes())
	}
	w.pad()
	return nil
}

// Write lets a tensor's Data function write through the counting writer.
func (w *writer) Write(b []byte) (int, error) {
	w.bytes(b)
	if w.err != nil {
		return 0, w.err
	}
	return len(b), nil
}
