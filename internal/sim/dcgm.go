package sim

import (
	"bytes"
	"fmt"
	"net/http"
	"time"
)

// GPUMetricsPath is where the server exports its simulated GPU activity, in the text format
// of NVIDIA's dcgm-exporter, so llmscale's DCGM parser reads it as it reads real GPUs.
const GPUMetricsPath = "/sim/dcgm/metrics"

// gpuWindow is the real-time window the exported activity is averaged over (dcgm-exporter
// reports the profiling metrics over its collection interval, 1 s at the finest).
const gpuWindow = time.Second

// SimulatedGPUName is the device name simulated GPUs carry ("sim:h100-sxm"), so a row of
// simulated telemetry can never be mistaken for a real GPU's.
func SimulatedGPUName(profile string) string { return "sim:" + profile }

// gpuMetrics serves the simulated GPUs: one series per GPU (rank × TP + i), every GPU of a
// rank doing what its rank does. Fixed-cadence mode has no GPU model and answers 404.
func (s *Server) gpuMetrics(w http.ResponseWriter, _ *http.Request) {
	if s.core == nil {
		http.Error(w, "fixed-cadence mode has no GPU model", http.StatusNotFound)
		return
	}
	select {
	case <-s.started:
	default:
		http.Error(w, "the simulator is not running", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	_, _ = w.Write(s.renderGPUMetrics(s.simNow()))
}

// renderGPUMetrics writes the dcgm-exporter page at simulated time now.
func (s *Server) renderGPUMetrics(now time.Duration) []byte {
	act := s.core.GPUActivity()
	window := time.Duration(float64(gpuWindow) * s.eff.Speedup)
	totalMiB := s.eff.GPUProfile.MemoryBytes / mib
	var b bytes.Buffer
	type series struct {
		name, help string
		value      func(Usage) float64
	}
	all := []series{
		{"DCGM_FI_DEV_GPU_UTIL", "GPU utilization (in %), simulated.", func(u Usage) float64 { return 100 * u.Busy }},
		{"DCGM_FI_DEV_MEM_COPY_UTIL", "Memory utilization (in %), simulated.", func(u Usage) float64 { return 100 * u.DRAM }},
		{"DCGM_FI_PROF_SM_ACTIVE", "Ratio of cycles an SM has at least 1 warp assigned, simulated.", func(u Usage) float64 { return u.SM }},
		{"DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", "Ratio of cycles the tensor pipe is active, simulated.", func(u Usage) float64 { return u.Tensor }},
		{"DCGM_FI_PROF_DRAM_ACTIVE", "Ratio of cycles the device memory interface is active, simulated.", func(u Usage) float64 { return u.DRAM }},
		// vLLM allocates its share of memory at start and holds it.
		{"DCGM_FI_DEV_FB_USED", "Framebuffer memory used (in MiB), simulated.", func(Usage) float64 { return totalMiB * s.eff.GPUMemoryUtilization }},
		{"DCGM_FI_DEV_FB_TOTAL", "Framebuffer memory total (in MiB).", func(Usage) float64 { return totalMiB }},
	}
	usage := make([]Usage, act.Ranks())
	for r := range usage {
		usage[r] = act.Usage(r, now, window)
	}
	name := SimulatedGPUName(s.eff.GPU)
	for _, m := range all {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n", m.name, m.help, m.name)
		for r, u := range usage {
			for i := range s.eff.TP {
				g := r*s.eff.TP + i
				fmt.Fprintf(&b, "%s{gpu=\"%d\",UUID=\"SIM-%d\",device=\"sim%d\",modelName=%q,Hostname=\"llmscale-sim\"} %g\n",
					m.name, g, g, g, name, m.value(u))
			}
		}
	}
	return b.Bytes()
}
