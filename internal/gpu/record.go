package gpu

import (
	"context"
	"errors"
	"fmt"

	"github.com/llmscale/llmscale/internal/results"
)

// RecordStats tells what Record wrote.
type RecordStats struct {
	Ticks int64 `json:"ticks"`
	Rows  int64 `json:"rows"`
	GPUs  int   `json:"gpus"` // the most GPUs seen at one instant
}

// Record runs s on grid until ctx is done and writes every sample to path (gpu.parquet),
// which appears atomically when Record returns. If the sampler stopped early (nvidia-smi
// kept failing), the samples taken so far are still written and its error is returned;
// a file that cannot be written is an error and leaves no file.
func Record(ctx context.Context, s Sampler, grid Grid, path string) (RecordStats, error) {
	w, err := results.NewParquetWriter[results.GPUSample](path)
	if err != nil {
		return RecordStats{}, err
	}
	st, writeErr, sampleErr := collectRows(ctx, s, grid, w.Write)
	if writeErr != nil {
		w.Abort()
		return st, errors.Join(writeErr, sampleErr)
	}
	if err := w.Close(); err != nil {
		return st, err
	}
	if sampleErr != nil {
		return st, fmt.Errorf("gpu telemetry stopped early: %w", sampleErr)
	}
	return st, nil
}

// collectRows runs s and hands each tick's rows to write; a write error stops the sampler.
// (Kept apart from the Parquet file so that tests run it inside a synctest bubble: the zstd
// codec's shared decoders must not be created inside one.)
func collectRows(ctx context.Context, s Sampler, grid Grid, write func([]results.GPUSample) error) (st RecordStats, writeErr, sampleErr error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ticks := make(chan Tick, 16)
	runErr := make(chan error, 1)
	go func() {
		defer close(ticks)
		runErr <- s.Run(ctx, grid, ticks)
	}()
	rows := make([]results.GPUSample, 0, 8)
	for t := range ticks {
		if writeErr != nil {
			continue // drain until the sampler sees the cancel
		}
		rows = rows[:0]
		for _, smp := range t.Samples {
			rows = append(rows, smp.Row())
		}
		if writeErr = write(rows); writeErr != nil {
			cancel()
			continue
		}
		st.Ticks++
		st.Rows += int64(len(rows))
		st.GPUs = max(st.GPUs, len(t.Samples))
	}
	return st, writeErr, <-runErr
}
