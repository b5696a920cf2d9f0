package spec

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary matrix files to Parse. Invariants: no panic; either an *Error
// whose message quotes only short excerpts, or a spec that validates; and bounded work: inputs
// are capped at 64 KB, and one input may allocate at most 256 MB (the deep-nesting and alias
// bombs this guards against took gigabytes before the limits).
//
//	go test ./internal/spec -run '^$' -fuzz FuzzParse -fuzztime 60s
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "matrix", "*.yaml"))
	for _, p := range seeds {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	for _, s := range []string{"a: &a [x, x]\nb: [*a, *a]\n", "x: [[[[[[]]]]]]\n", "load: {warmup: 0s, run_time: 0}\n",
		"factors: {pp: [2], users: [0]}\n", "\xff\xfe", "repeats: 0\nmax_experiments: 0\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 64<<10 {
			t.Skip()
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		l, err := Parse(data, "m.yaml", t.TempDir())
		runtime.ReadMemStats(&after)
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 256<<20 {
			t.Fatalf("a matrix of %d bytes allocated %d MB", len(data), grew>>20)
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "matrix m.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			if n := len(err.Error()); n > 64<<10+len(data) {
				t.Fatalf("a %d-byte message for a %d-byte file", n, len(data))
			}
			return
		}
		if p := l.Validate(); len(p) > 0 {
			t.Fatalf("Parse accepted a matrix with problems: %v", p)
		}
	})
}
