package gguf

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// Limits of what Read accepts, so a damaged or hostile file fails cleanly instead of asking
// for gigabytes: real models have a few hundred tensors and keys, and a tokenizer array of a
// few hundred thousand entries.
const (
	maxCount     = 1 << 20 // keys, tensors
	maxArray     = 1 << 24 // elements of one metadata array
	maxString    = 1 << 20 // bytes of one string
	maxDims      = 4       // GGML_MAX_DIMS
	maxAlignment = 1 << 16
)

// File is the metadata of a GGUF file: its keys, its tensors and where their data begins.
type File struct {
	Version    uint32
	KVs        []KV
	Tensors    []TensorInfo
	Alignment  uint64
	DataOffset uint64 // from the start of the file
}

// Get returns the value of a key.
func (f *File) Get(key string) (any, bool) {
	for _, kv := range f.KVs {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return nil, false
}

// Uint returns an unsigned integer key's value, whichever integer type it was written with.
func (f *File) Uint(key string) (uint64, bool) {
	v, ok := f.Get(key)
	if !ok {
		return 0, false
	}
	switch x := v.(type) {
	case uint8:
		return uint64(x), true
	case uint16:
		return uint64(x), true
	case uint32:
		return uint64(x), true
	case uint64:
		return x, true
	case int32:
		return uint64(x), x >= 0
	case int64:
		return uint64(x), x >= 0
	}
	return 0, false
}

// ReadFile reads a GGUF file's metadata and checks that every tensor's data lies inside it.
func ReadFile(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	f, err := Read(fh)
	if err != nil {
		return nil, fmt.Errorf("gguf %s: %w", path, err)
	}
	st, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	for _, t := range f.Tensors {
		if end := f.DataOffset + t.Offset + t.Bytes(); t.Bytes() > 0 && end > uint64(st.Size()) {
			return nil, fmt.Errorf("gguf %s: tensor %q ends at byte %d, past the file's end (%d): the file is truncated", path, t.Name, end, st.Size())
		}
	}
	return f, nil
}

// Read reads the header, metadata and tensor descriptions of a GGUF stream (not the data).
func Read(r io.Reader) (*File, error) {
	rd := &reader{r: bufio.NewReader(r)}
	magic := rd.bytes(4)
	if rd.err == nil && string(magic) != Magic {
		return nil, fmt.Errorf("not a GGUF file (starts with %q, want %q)", magic, Magic)
	}
	f := &File{Version: rd.u32(), Alignment: DefaultAlignment}
	if rd.err == nil && f.Version != Version {
		return nil, fmt.Errorf("GGUF version %d, want %d", f.Version, Version)
	}
	nt, nkv := rd.count("tensor"), rd.count("key")
	for i := uint64(0); i < nkv && rd.err == nil; i++ {
		f.KVs = append(f.KVs, rd.kv())
	}
	for i := uint64(0); i < nt && rd.err == nil; i++ {
		f.Tensors = append(f.Tensors, rd.tensorInfo())
	}
	if rd.err != nil {
		return nil, rd.fail()
	}
	if err := f.check(); err != nil {
		return nil, err
	}
	f.DataOffset = align(rd.n, f.Alignment)
	return f, nil
}

// check validates the alignment key and the tensors' offsets.
func (f *File) check() error {
	if v, ok := f.Get("general.alignment"); ok {
		a, isU32 := v.(uint32)
		if !isU32 || a == 0 || a > maxAlignment || a&(a-1) != 0 {
			return fmt.Errorf("general.alignment %v: want a power of two (uint32) up to %d", v, maxAlignment)
		}
		f.Alignment = uint64(a)
	}
	seen := map[string]bool{}
	for _, t := range f.Tensors {
		if seen[t.Name] {
			return fmt.Errorf("tensor %q appears twice", t.Name)
		}
		seen[t.Name] = true
		if t.Offset%f.Alignment != 0 {
			return fmt.Errorf("tensor %q: offset %d is not a multiple of the alignment %d", t.Name, t.Offset, f.Alignment)
		}
	}
	return nil
}

type reader struct {
	r   *bufio.Reader
	n   uint64
	err error
	buf [8]byte
}

func (r *reader) fail() error {
	if errors.Is(r.err, io.EOF) || errors.Is(r.err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("truncated at byte %d: %w", r.n, io.ErrUnexpectedEOF)
	}
	return r.err
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	b := r.buf[:0]
	if n > len(r.buf) {
		b = make([]byte, n)
	}
	b = b[:n]
	var got int
	got, r.err = io.ReadFull(r.r, b)
	r.n += uint64(got)
	return b
}

func (r *reader) u32() uint32 {
	b := r.bytes(4)
	if r.err != nil {
		return 0
	}
	return binary.LittleEndian.Uint32(b)
}

func (r *reader) u64() uint64 {
	b := r.bytes(8)
	if r.err != nil {
		return 0
	}
	return binary.LittleEndian.Uint64(b)
}

func (r *reader) setErr(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("byte %d: "+format, append([]any{r.n}, args...)...)
	}
}

func (r *reader) count(what string) uint64 {
	n := r.u64()
	if n > maxCount {
		r.setErr("%d %ss, more than %d", n, what, maxCount)
	}
	return n
}

func (r *reader) str() string {
	n := r.u64()
	if n > maxString {
		r.setErr("string of %d bytes, more than %d", n, maxString)
		return ""
	}
	return string(r.bytes(int(n)))
}

func (r *reader) kv() KV {
	key := r.str()
	t := ValueType(r.u32())
	return KV{Key: key, Value: r.value(key, t)}
}

// value reads a value of type t; arrays become typed slices.
func (r *reader) value(key string, t ValueType) any {
	if t != TypeArray {
		return r.scalar(key, t)
	}
	et, n := ValueType(r.u32()), r.u64()
	switch {
	case r.err != nil:
		return nil
	case et == TypeArray || et >= typeCount:
		r.setErr("key %q: array of type %d is not supported", key, et)
		return nil
	case n > maxArray:
		r.setErr("key %q: array of %d elements, more than %d", key, n, maxArray)
		return nil
	}
	return r.array(key, et, n)
}

func (r *reader) array(key string, et ValueType, n uint64) any {
	switch et {
	case TypeString:
		return readSlice[string](r, key, et, n)
	case TypeFloat32:
		return readSlice[float32](r, key, et, n)
	case TypeInt32:
		return readSlice[int32](r, key, et, n)
	case TypeUint32:
		return readSlice[uint32](r, key, et, n)
	}
	return readSlice[any](r, key, et, n)
}

// readSlice reads n elements, growing the slice as they come so a lying count cannot
// allocate more than the file holds.
func readSlice[T any](r *reader, key string, et ValueType, n uint64) []T {
	out := make([]T, 0, min(n, 4096))
	for i := uint64(0); i < n && r.err == nil; i++ {
		v, _ := r.scalar(key, et).(T)
		out = append(out, v)
	}
	return out
}

func (r *reader) scalar(key string, t ValueType) any {
	switch t {
	case TypeUint8, TypeInt8, TypeBool:
		b := r.bytes(1)
		if r.err != nil {
			return nil
		}
		return small(t, b[0])
	case TypeUint16:
		return uint16(r.u16())
	case TypeInt16:
		return int16(r.u16())
	case TypeUint32:
		return r.u32()
	case TypeInt32:
		return int32(r.u32())
	case TypeFloat32:
		return math.Float32frombits(r.u32())
	case TypeString:
		return r.str()
	case TypeUint64:
		return r.u64()
	case TypeInt64:
		return int64(r.u64())
	case TypeFloat64:
		return math.Float64frombits(r.u64())
	}
	r.setErr("key %q: unknown value type %d", key, t)
	return nil
}

func small(t ValueType, b byte) any {
	switch t {
	case TypeUint8:
		return b
	case TypeInt8:
		return int8(b)
	}
	return b != 0
}

func (r *reader) u16() uint16 {
	b := r.bytes(2)
	if r.err != nil {
		return 0
	}
	return binary.LittleEndian.Uint16(b)
}

func (r *reader) tensorInfo() TensorInfo {
	t := TensorInfo{Name: r.str()}
	nd := r.u32()
	if nd == 0 || nd > maxDims {
		r.setErr("tensor %q: %d dimensions, want 1 to %d", t.Name, nd, maxDims)
		return t
	}
	elems := uint64(1)
	for range nd {
		d := r.u64()
		if d == 0 || d > math.MaxInt64/elems {
			r.setErr("tensor %q: dimension %d is zero or overflows", t.Name, d)
			return t
		}
		elems *= d
		t.Dims = append(t.Dims, d)
	}
	t.Type, t.Offset = TensorType(r.u32()), r.u64()
	return t
}
