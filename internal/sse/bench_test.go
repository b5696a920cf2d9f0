package sse

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// syntheticStream is a vLLM completions stream of n one-token chunks, a usage chunk and [DONE].
func syntheticStream(n int, lineEnd string) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, `data: {"id":"cmpl-5d3a9f0c7b2e4e1f","object":"text_completion","created":1767225600,`+
			`"model":"meta-llama/Meta-Llama-3-8B-Instruct","choices":[{"index":0,"text":" tok%d","logprobs":null,`+
			`"finish_reason":null,"stop_reason":null}],"usage":null}%s%s`, i, lineEnd, lineEnd)
	}
	fmt.Fprintf(&b, `data: {"id":"cmpl-5d3a9f0c7b2e4e1f","object":"text_completion","created":1767225600,`+
		`"model":"meta-llama/Meta-Llama-3-8B-Instruct","choices":[],"usage":{"prompt_tokens":12,"total_tokens":%d,`+
		`"completion_tokens":%d}}%s%s`, 12+n, n, lineEnd, lineEnd)
	b.WriteString("data: [DONE]" + lineEnd + lineEnd)
	return b.Bytes()
}

func drain(b *testing.B, r *Reader) int {
	n := 0
	for {
		_, err := r.Next()
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			b.Fatal(err)
		}
		n++
	}
}

// BenchmarkReader measures SSE parsing alone: bytes/s, ns and allocations per event.
//
//	go test ./internal/sse -run '^$' -bench . -benchmem -count 10 | tee new.txt
//	benchstat old.txt new.txt
func BenchmarkReader(b *testing.B) {
	for _, lineEnd := range []string{"\n", "\r\n"} {
		for _, n := range []int{16, 256, 4096} {
			data := syntheticStream(n, lineEnd)
			name := fmt.Sprintf("ends=%s/chunks=%d", map[string]string{"\n": "lf", "\r\n": "crlf"}[lineEnd], n)
			b.Run(name, func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				b.ReportAllocs()
				events := 0
				rd := bytes.NewReader(data)
				for b.Loop() {
					rd.Reset(data)
					events += drain(b, NewReader(rd))
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(events), "ns/event")
			})
		}
	}
	// A reused reader over many small reads, as a live stream arrives: one event per read.
	data := syntheticStream(256, "\n")
	text := string(data)
	b.Run("reads=one-per-event", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		events := 0
		for b.Loop() {
			events += drain(b, NewReader(&eventReader{s: text}))
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(events), "ns/event")
	})
}

// eventReader returns one event (up to a blank line) per Read.
type eventReader struct{ s string }

func (r *eventReader) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, io.EOF
	}
	end := strings.Index(r.s, "\n\n")
	if end < 0 {
		end = len(r.s)
	} else {
		end += 2
	}
	n := copy(p, r.s[:end])
	r.s = r.s[n:]
	return n, nil
}
