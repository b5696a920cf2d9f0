package promscrape

import (
	"testing"
	"time"

	"github.com/llmscale/llmscale/internal/results"
)

// The cost of one scrape of a vLLM server (DP=2, ~900 lines) against the 1 s grid:
//
//	go test ./internal/promscrape -run '^$' -bench . -benchmem -count 10 | tee new.txt
//	benchstat old.txt new.txt
func BenchmarkParse(b *testing.B) {
	for _, c := range []struct{ name, file, contentType string }{
		{"format=text", "vllm-v1-dp2.txt", textType},
		// a 107-line subset: expfmt's OpenMetrics decoder costs milliseconds per line
		{"format=openmetrics-subset", "vllm-v1-dp2.openmetrics.txt", omType},
	} {
		body := readCapture(b, c.file)
		if _, err := Parse(body, c.contentType); err != nil { // also builds the OM grammar once
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(body, c.contentType); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRows measures turning one parsed scrape into server_metrics rows.
func BenchmarkRows(b *testing.B) {
	samples := parseCapture(b, "vllm-v1-dp2.txt", textType)
	start := time.Unix(1_700_000_000, 0)
	snap := Snapshot{Time: start, Samples: samples}
	b.ReportAllocs()
	var rows []results.ServerMetric
	for b.Loop() {
		rows = Rows("exp", results.PhaseDuring, 0, start, start, snap, nil)
	}
	if len(rows) != len(samples)+3 {
		b.Fatalf("%d rows for %d samples", len(rows), len(samples))
	}
}
