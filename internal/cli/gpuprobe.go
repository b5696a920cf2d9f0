package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/llmscale/llmscale/internal/gpu"
	"github.com/llmscale/llmscale/internal/results"
)

type gpuProbeFlags struct {
	interval, duration, poll time.Duration
	out, source, dcgmURL     string
	smiPath, gpus            string
}

// newGPUProbeCmd is a developer command: it proves the GPU telemetry on a real machine.
func newGPUProbeCmd(env Env) *cobra.Command {
	var f gpuProbeFlags
	c := &cobra.Command{
		Use:    "gpu-probe",
		Hidden: true,
		Short:  "Record GPU telemetry for a while and print the topology (a developer tool)",
		Long: `gpu-probe captures the GPU topology (models, memory, driver, CUDA, nvidia-smi topo -m),
then samples the GPUs on a grid of --interval for --duration and writes DIR/gpu.parquet and
DIR/topology.json, and prints a per-GPU summary and the CPU time the sampling cost.

Sources: query (one long-running nvidia-smi --query-gpu … -lms child), dmon (nvidia-smi dmon
with GPM metrics: SM/tensor/DRAM activity, NVLink and PCIe throughput), query+dmon (both,
merged; the default), nvml (libnvidia-ml in process, read just before each grid instant,
GPM metrics included; only in binaries built with go build -tags nvml), dcgm (a dcgm-exporter
at --dcgm-url), fake (synthetic, no GPU needed).
On a machine without GPUs it prints why telemetry is absent and exits 0.`,
		Example: "  llmscale gpu-probe --interval 500ms --duration 10s --out /tmp/probe",
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runGPUProbe(c.Context(), env, f)
		},
	}
	fl := c.Flags()
	fl.DurationVar(&f.interval, "interval", 500*time.Millisecond, "sampling grid interval")
	fl.DurationVar(&f.duration, "duration", 10*time.Second, "how long to sample")
	fl.DurationVar(&f.poll, "poll", 0, "how often sources read (0: half the interval, at least 100ms)")
	fl.StringVar(&f.out, "out", "gpu-probe", "folder for gpu.parquet and topology.json")
	fl.StringVar(&f.source, "source", "query+dmon", "query, dmon, query+dmon, nvml, dcgm or fake")
	fl.StringVar(&f.dcgmURL, "dcgm-url", "http://localhost:9400/metrics", "dcgm-exporter metrics URL (--source dcgm)")
	fl.StringVar(&f.smiPath, "nvidia-smi", "", "nvidia-smi binary (default: found on PATH)")
	fl.StringVar(&f.gpus, "gpus", "", "comma-separated GPU indexes to sample (default: all)")
	return c
}

func runGPUProbe(ctx context.Context, env Env, f gpuProbeFlags) error {
	if f.interval <= 0 || f.duration <= 0 {
		return withCode(fmt.Errorf("--interval and --duration must be positive"), ExitUsage)
	}
	gpus, err := parseIndexes(f.gpus)
	if err != nil {
		return withCode(err, ExitUsage)
	}
	smi := gpu.SMI{Path: f.smiPath}
	s, nv, err := probeSampler(f, smi, gpus)
	if err != nil {
		return err
	}
	out := env.path(f.out)
	if f.source != "fake" && f.source != "dcgm" {
		present, err := probeTopology(ctx, env, smi, out)
		if err != nil || !present && nv == nil { // NVML does not need nvidia-smi
			return err
		}
	}
	before := cpuTimes()
	start := time.Now()
	rctx, cancel := context.WithTimeout(ctx, f.duration)
	defer cancel()
	st, recErr := gpu.Record(rctx, s, gpu.Grid{Start: start, Interval: f.interval}, filepath.Join(out, "gpu.parquet"))
	wall := time.Since(start)
	used := cpuTimes().sub(before)
	fmt.Fprintf(env.Stdout, "\nrecorded %d ticks, %d rows, up to %d GPUs in %s → %s\n", st.Ticks, st.Rows, st.GPUs,
		wall.Round(time.Millisecond), filepath.Join(out, "gpu.parquet"))
	fmt.Fprintf(env.Stdout, "cpu: llmscale user %.2fs sys %.2fs; nvidia-smi children user %.2fs sys %.2fs (%.1f%% of one core)\n",
		used.selfUser, used.selfSys, used.childUser, used.childSys, 100*used.total()/wall.Seconds())
	if nv != nil {
		printNVMLStats(env.Stdout, nv.Stats())
	}
	if err := summarizeGPUParquet(env.Stdout, filepath.Join(out, "gpu.parquet")); err != nil {
		return errors.Join(recErr, err)
	}
	return recErr
}

// probeTopology prints the topology and writes topology.json; present is false without GPUs.
func probeTopology(ctx context.Context, env Env, smi gpu.SMI, out string) (present bool, err error) {
	topo := gpu.CaptureTopology(ctx, smi, env.now())
	printTopology(env.Stdout, topo)
	if err := results.WriteJSON(filepath.Join(out, "topology.json"), topo); err != nil {
		return false, err
	}
	return topo.Status == gpu.StatusPresent, nil
}

// probeSampler builds the sampler of --source; nv is the NVML source, for its costs.
func probeSampler(f gpuProbeFlags, smi gpu.SMI, gpus []int) (s gpu.Sampler, nv *gpu.NVMLSource, err error) {
	opts := gpu.SamplerOptions{Poll: f.poll}
	query := &gpu.QuerySource{SMI: smi, GPUs: gpus}
	dmon := &gpu.DmonSource{SMI: smi, GPUs: gpus}
	switch f.source {
	case "query":
		return gpu.NewSampler(opts, query), nil, nil
	case "dmon":
		return gpu.NewSampler(opts, dmon), nil, nil
	case "query+dmon":
		return gpu.NewSampler(opts, dmon, query), nil, nil
	case "nvml":
		nv, err := gpu.NewNVMLSource(gpus)
		if errors.Is(err, gpu.ErrNoNVML) {
			return nil, nil, withCode(err, ExitUsage)
		}
		if err != nil {
			return nil, nil, err
		}
		return gpu.NewSampler(opts, nv), nv, nil
	case "dcgm":
		return gpu.NewSampler(opts, &gpu.DCGMSource{URL: f.dcgmURL}), nil, nil
	case "fake":
		return gpu.Fake{GPUs: max(len(gpus), 2)}, nil, nil
	}
	return nil, nil, withCode(fmt.Errorf("unknown --source %q (query, dmon, query+dmon, nvml, dcgm or fake)", f.source), ExitUsage)
}

// printNVMLStats prints what the NVML reads cost, per poll of every GPU.
func printNVMLStats(w io.Writer, st gpu.NVMLStats) {
	if st.Polls == 0 {
		return
	}
	per := func(d time.Duration) float64 { return d.Seconds() * 1e3 / float64(st.Polls) }
	fmt.Fprintf(w, "nvml: %d polls, %d readings; per poll of every GPU %.3f ms wall, %.3f ms CPU of the reading thread\n",
		st.Polls, st.Readings, per(st.Wall), per(st.CPU))
	for _, c := range st.Calls {
		fmt.Fprintf(w, "nvml call %-13s %6d calls, %8.1f µs each, %7.3f ms per poll\n",
			c.Name, c.Count, c.Wall.Seconds()*1e6/float64(c.Count), per(c.Wall))
	}
}

func parseIndexes(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []int
	for p := range strings.SplitSeq(s, ",") {
		i, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || i < 0 {
			return nil, fmt.Errorf("--gpus: %q is not a GPU index", p)
		}
		out = append(out, i)
	}
	return out, nil
}

func printTopology(w io.Writer, t gpu.Topology) {
	fmt.Fprintf(w, "gpus       %s\n", t.Summary)
	if t.Status != gpu.StatusPresent {
		return
	}
	fmt.Fprintf(w, "driver     %s, CUDA %s\n", t.Driver, t.CUDA)
	for _, g := range t.GPUs {
		fmt.Fprintf(w, "gpu %d      %s, %.0f MiB, %s, %s\n", g.Index, g.Name, g.MemoryTotalMiB, g.BusID, g.UUID)
	}
	for _, warn := range t.Warnings {
		fmt.Fprintf(w, "warning    %s\n", warn)
	}
	if t.TopoRaw != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimRight(t.TopoRaw, "\n"))
	}
}

// summarizeGPUParquet reads gpu.parquet back and prints, per GPU, the mean of the main
// columns over the rows that have them (GPM metrics are null for their first two seconds).
func summarizeGPUParquet(w io.Writer, path string) error {
	rows, err := results.ReadParquet[results.GPUSample](path)
	if err != nil {
		return err
	}
	cols := []struct {
		name string
		get  func(results.GPUSample) *float64
	}{
		{"sm_util%", func(r results.GPUSample) *float64 { return r.SMUtilPct }},
		{"sm_active%", func(r results.GPUSample) *float64 { return r.SMActivePct }},
		{"tensor%", func(r results.GPUSample) *float64 { return r.TensorActivePct }},
		{"dram%", func(r results.GPUSample) *float64 { return r.DRAMActivePct }},
		{"power_w", func(r results.GPUSample) *float64 { return r.PowerW }},
		{"sm_mhz", func(r results.GPUSample) *float64 { return r.SMClockMHz }},
		{"temp_c", func(r results.GPUSample) *float64 { return r.TempC }},
		{"nvlink_tx_MiB/s", func(r results.GPUSample) *float64 { return r.NVLinkTxMiBps }},
		{"age_ms", func(r results.GPUSample) *float64 { v := float64(r.AgeNs) / 1e6; return &v }},
	}
	fmt.Fprintf(w, "\nmeans per GPU (over rows with a value; - where none)\ngpu  rows")
	for _, c := range cols {
		fmt.Fprintf(w, "  %s", c.name)
	}
	fmt.Fprintln(w)
	for _, g := range gpuIndexes(rows) {
		n := 0
		line := ""
		for _, c := range cols {
			sum, cnt := 0.0, 0
			for _, r := range rows {
				if v := c.get(r); r.GPUIndex == g && v != nil {
					sum, cnt = sum+*v, cnt+1
				}
			}
			n = max(n, cnt)
			line += fmt.Sprintf("  %*s", len(c.name), meanText(sum, cnt))
		}
		fmt.Fprintf(w, "%3d  %4d%s\n", g, n, line)
	}
	return nil
}

func gpuIndexes(rows []results.GPUSample) []int32 {
	seen := map[int32]bool{}
	var out []int32
	for _, r := range rows {
		if !seen[r.GPUIndex] {
			seen[r.GPUIndex] = true
			out = append(out, r.GPUIndex)
		}
	}
	slices.Sort(out)
	return out
}

func meanText(sum float64, n int) string {
	if n == 0 {
		return "-"
	}
	return strconv.FormatFloat(sum/float64(n), 'f', 1, 64)
}
