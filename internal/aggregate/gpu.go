package aggregate

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/stats"
)

// fillGPU summarises gpu.parquet over the measured window (grid instants in
// [measure_from, measure_to)). Without the file, gpu_telemetry says why (experiment.json's
// telemetry_absent).
func fillGPU(r *Row, dir string, e results.Experiment) error {
	path := filepath.Join(dir, results.GPUFile)
	rows, err := results.ReadParquet[results.GPUSample](path)
	if errors.Is(err, os.ErrNotExist) {
		r.GPUTelemetry = "absent"
		for _, note := range e.Telemetry {
			if why, ok := strings.CutPrefix(note, "gpu: "); ok {
				r.GPUTelemetry = "absent: " + why
			}
		}
		return nil
	}
	if err != nil {
		r.GPUTelemetry = "unreadable"
		return fmt.Errorf("gpu.parquet unreadable: %w", err)
	}
	from, to := e.MeasureFrom.UnixNano(), e.MeasureTo.UnixNano()
	var in []results.GPUSample
	for _, s := range rows {
		if e.MeasureFrom.IsZero() || (s.TimeUnixNs >= from && s.TimeUnixNs < to) {
			in = append(in, s)
		}
	}
	fillGPUStats(r, in)
	return nil
}

// gpuAcc gathers one metric over the window: every sample, per GPU and per grid tick.
type gpuAcc struct {
	all    []float64
	perGPU map[int32][]float64
	perTic map[int64]float64
}

func newGPUAcc() *gpuAcc { return &gpuAcc{perGPU: map[int32][]float64{}, perTic: map[int64]float64{}} }

func (a *gpuAcc) add(s results.GPUSample, v *float64) {
	if v == nil {
		return
	}
	a.all = append(a.all, *v)
	a.perGPU[s.GPUIndex] = append(a.perGPU[s.GPUIndex], *v)
	a.perTic[s.Tick] += *v
}

// mean is the mean over every sample (the mean per GPU when every GPU has the same samples).
func (a *gpuAcc) mean() float64 { return stats.Mean(a.all) }

// p95 is the 95th percentile over every sample, numpy's linear method.
func (a *gpuAcc) p95() float64 { return stats.NewStat(append([]float64(nil), a.all...)).P95 }

// minGPU is the mean of the least busy GPU.
func (a *gpuAcc) minGPU() float64 {
	m, first := nan(), true
	for _, v := range a.perGPU {
		if x := stats.Mean(v); first || x < m {
			m, first = x, false
		}
	}
	return m
}

// totalMean is the mean over ticks of the sum over GPUs (e.g. the power of the whole server),
// summed in tick order so that the last digits do not depend on a map's order.
func (a *gpuAcc) totalMean() float64 {
	var v []float64
	for _, t := range slices.Sorted(maps.Keys(a.perTic)) {
		v = append(v, a.perTic[t])
	}
	return stats.Mean(v)
}

func fillGPUStats(r *Row, samples []results.GPUSample) {
	names := []string{"util", "sm", "dram", "bw", "mem", "power"}
	acc := map[string]*gpuAcc{}
	for _, n := range names {
		acc[n] = newGPUAcc()
	}
	gpus := map[int32]bool{}
	source := ""
	for _, s := range samples {
		gpus[s.GPUIndex] = true
		source = s.Source
		acc["util"].add(s, s.SMUtilPct)
		acc["sm"].add(s, s.SMActivePct)
		acc["dram"].add(s, s.DRAMActivePct)
		acc["bw"].add(s, s.MemBWUtilPct)
		acc["mem"].add(s, s.MemUsedMiB)
		acc["power"].add(s, s.PowerW)
	}
	r.GPUTelemetry, r.GPUCount, r.GPUSamples = source, int64(len(gpus)), int64(len(samples))
	if len(samples) == 0 {
		r.GPUTelemetry = "no sample in the measured window"
		return
	}
	r.GPUUtilMean, r.GPUUtilP95, r.GPUUtilMinGPU = F(acc["util"].mean()), F(acc["util"].p95()), F(acc["util"].minGPU())
	r.SMActiveMean, r.SMActiveP95 = F(acc["sm"].mean()), F(acc["sm"].p95())
	r.DRAMActiveMean, r.MemBWUtilMean = F(acc["dram"].mean()), F(acc["bw"].mean())
	r.MemUsedMiBMean, r.MemUsedMiBTotalMean = F(acc["mem"].mean()), F(acc["mem"].totalMean())
	r.PowerWMean, r.PowerWTotalMean = F(acc["power"].mean()), F(acc["power"].totalMean())
}

func nan() float64 { return V(nil) }
