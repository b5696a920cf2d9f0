package gpu

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/llmscale/llmscale/internal/results"
)

func TestCollectRowsOnTheGrid(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		grid := Grid{Start: start, Interval: 200 * time.Millisecond}
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second-time.Millisecond)
		defer cancel()
		var rows []results.GPUSample
		st, werr, serr := collectRows(ctx, Fake{GPUs: 2}, grid, func(rs []results.GPUSample) error {
			rows = append(rows, rs...)
			return nil
		})
		if werr != nil || serr != nil {
			t.Fatal(werr, serr)
		}
		if st.Ticks != 10 || st.Rows != 20 || st.GPUs != 2 || len(rows) != 20 {
			t.Fatalf("stats %+v, want 10 ticks of 2 GPUs", st)
		}
		for i, r := range rows {
			k := int64(i / 2)
			if r.Tick != k || r.OffsetNs != k*int64(200*time.Millisecond) || r.TimeUnixNs != grid.At(k).UnixNano() ||
				r.GPUIndex != int32(i%2) || r.Source != "fake" {
				t.Fatalf("row %d: %+v", i, r)
			}
			want := DefaultFakeValues(i%2, k)
			if r.SMUtilPct == nil || *r.SMUtilPct != want[SMUtilPct] || r.SMActivePct != nil || r.ClockEventReasonNames != "" {
				t.Fatalf("row %d values: util %v active %v reasons %q", i, r.SMUtilPct, r.SMActivePct, r.ClockEventReasonNames)
			}
		}
	})
}

func TestCollectRowsStopsOnWriteError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st, werr, serr := collectRows(t.Context(), Fake{GPUs: 1}, Grid{Start: time.Now(), Interval: time.Second},
			func([]results.GPUSample) error { return errors.New("disk full") })
		if werr == nil || serr != nil || st.Ticks != 0 {
			t.Fatalf("stats %+v, write error %v, sampler error %v", st, werr, serr)
		}
	})
}

// TestRecordParquet writes a real gpu.parquet in real time (Parquet's zstd codec must not run
// inside a synctest bubble), so it asserts only what load cannot change.
func TestRecordParquet(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "exp", "gpu.parquet")
	grid := Grid{Start: time.Now(), Interval: 20 * time.Millisecond}
	ctx, cancel := context.WithTimeout(t.Context(), 150*time.Millisecond)
	defer cancel()
	st, err := Record(ctx, Fake{GPUs: 3}, grid, path)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := results.ReadParquet[results.GPUSample](path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Ticks < 1 || int64(len(rows)) != st.Rows || st.Rows != 3*st.Ticks {
		t.Fatalf("stats %+v, %d rows in the file", st, len(rows))
	}
	for _, r := range rows {
		if r.TimeUnixNs != grid.At(r.Tick).UnixNano() || r.GPUUUID == "" {
			t.Fatalf("row off the grid: %+v", r)
		}
	}
}

type failing struct{ err error }

func (f failing) Run(context.Context, Grid, chan<- Tick) error { return f.err }

func TestRecordKeepsSamplesWhenSamplerFails(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "gpu.parquet")
	_, err := Record(t.Context(), failing{errors.New("nvidia-smi died")}, Grid{Interval: time.Second}, path)
	if err == nil || !strings.Contains(err.Error(), "stopped early: nvidia-smi died") {
		t.Fatalf("error %v", err)
	}
	if rows, err := results.ReadParquet[results.GPUSample](path); err != nil || len(rows) != 0 {
		t.Fatalf("the file must exist and be empty: %v %v", rows, err)
	}
}

func TestRecordUnwritablePath(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Record(t.Context(), Fake{GPUs: 1}, Grid{Interval: time.Second}, filepath.Join(blocker, "gpu.parquet")); err == nil {
		t.Fatal("wrote under a file")
	}
}

func TestSampleRow(t *testing.T) {
	t.Parallel()
	m := NoMetrics()
	m[PowerW], m[PState], m[ClockEventReasons], m[MIGEnabled], m[ECCUncorrected] = 698.5, 0, 0x24, 1, 0
	at := time.Date(2026, 11, 27, 9, 18, 0, 0, time.UTC)
	r := Sample{Tick: 3, Time: at, Offset: 1500 * time.Millisecond, Age: 40 * time.Millisecond, Index: 2,
		UUID: "GPU-x", Name: "H100", Source: "nvidia-smi-query", Metrics: m}.Row()
	if r.TimeUnixNs != at.UnixNano() || r.OffsetNs != 1.5e9 || r.AgeNs != 4e7 || r.GPUIndex != 2 || r.Tick != 3 {
		t.Errorf("keys %+v", r)
	}
	if r.PowerW == nil || *r.PowerW != 698.5 || r.SMUtilPct != nil || r.PState == nil || *r.PState != 0 {
		t.Errorf("values: power %v util %v pstate %v", r.PowerW, r.SMUtilPct, r.PState)
	}
	if r.ClockEventReasons == nil || *r.ClockEventReasons != 0x24 || r.ClockEventReasonNames != "sw_power_cap,sw_thermal_slowdown" {
		t.Errorf("reasons %v %q", r.ClockEventReasons, r.ClockEventReasonNames)
	}
	if r.MIGEnabled == nil || !*r.MIGEnabled || r.ECCUncorrected == nil || *r.ECCUncorrected != 0 {
		t.Errorf("mig %v ecc %v", r.MIGEnabled, r.ECCUncorrected)
	}
	m[PState] = math.Inf(1)
	if (Sample{Metrics: m}).Row().PState != nil {
		t.Error("an out-of-range value must become null")
	}
}

// TestRealProbeParquet reads the gpu.parquet that gpu-probe wrote on the 4×H100 machine
// (GPUs 0 and 1 in bf16 matmuls, GPU 2 copying to GPU 3 over NVLink).
func TestRealProbeParquet(t *testing.T) {
	t.Parallel()
	rows, err := results.ReadParquet[results.GPUSample](filepath.Join("testdata", "probe", "gpu-h100x4-load.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 112 {
		t.Fatalf("%d rows, want 112 (28 ticks × 4 GPUs)", len(rows))
	}
	maxTx := 0.0
	for _, r := range rows {
		if r.GPUIndex == 2 && r.NVLinkTxMiBps != nil {
			maxTx = max(maxTx, *r.NVLinkTxMiBps)
		}
		if r.GPUIndex == 0 && r.SMActivePct != nil && *r.SMActivePct < 90 {
			t.Errorf("GPU 0 sm_active %v during the matmuls", *r.SMActivePct)
		}
	}
	if maxTx < 300000 {
		t.Errorf("GPU 2 peak NVLink tx %v MiB/s, want the ~380 000 of the copy", maxTx)
	}
}
