package gguf

import (
	"io"
	"runtime"
	"testing"
)

// BenchmarkModelWrite is the writer's speed per byte of model (random weights, F16 encode),
// which sets how long `llmscale model random --size 1b` (2.2 GB) takes.
//
//	go test ./internal/gguf -run '^$' -bench . -benchmem -count 6
func BenchmarkModelWrite(b *testing.B) {
	s, _ := ShapeOf("small")
	m := Model{Name: "bench", Shape: s, Seed: 1, Workers: runtime.GOMAXPROCS(0)}
	b.SetBytes(s.Bytes())
	b.ReportAllocs()
	for b.Loop() {
		if err := m.Write(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
