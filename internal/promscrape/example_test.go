package promscrape_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	"github.com/llmscale/llmscale/internal/promscrape"
	"github.com/llmscale/llmscale/internal/results"
)

// How a campaign records one experiment's server metrics and how the aggregation reads them.
// (Compiled, not run: it needs a server.)
func ExampleRecorder() {
	ctx := context.Background()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2}}
	base := "http://127.0.0.1:8000"
	version, err := promscrape.Version(ctx, client, base) // record it in experiment.json
	if err != nil {
		version = "unknown"
	}
	scraper, err := promscrape.New(promscrape.Options{URL: base + "/metrics", Client: client, Interval: time.Second})
	if err != nil {
		panic(err)
	}
	path := filepath.Join("results", "raw", "exp-0001", results.ServerMetricsFile)
	rec, err := promscrape.NewRecorder(scraper, promscrape.RecorderOptions{Path: path, Experiment: "exp-0001"})
	if err != nil {
		panic(err)
	}
	start := rec.Begin(ctx)    // before snapshot, then the grid from start
	_ = start                  // … run the load, counting request offsets from start …
	stats, err := rec.End(ctx) // stop the grid, after snapshot, commit the file
	if err != nil {
		panic(err)
	}

	rows, err := results.ReadParquet[results.ServerMetric](path)
	if err != nil {
		panic(err)
	}
	s := promscrape.Summarize(rows)
	fmt.Println(version, stats.FailedScrapes, s.GenerationTokens, s.MeanQueueS, s.Running.Mean, s.KVCacheUsage.Max)
}
