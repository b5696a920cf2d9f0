package campaign

import (
	"context"
	"path/filepath"
	"time"

	"github.com/llmscale/llmscale/internal/gpu"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/sim"
	"github.com/llmscale/llmscale/internal/spec"
)

// telemetry is how GPUs are sampled in this campaign, decided once.
type telemetry struct {
	mode     string // telemetry.gpu as the matrix gives it
	interval time.Duration
	source   string // nvml | nvidia-smi | dcgm | "" (none)
	absent   string // why GPUs are not sampled, when source is ""
	dcgmURL  string
	smi      gpu.SMI
	topology gpu.Topology
	traces   bool // telemetry.traces: receive the server's per-request spans
}

// detectTelemetry captures the GPU topology once per campaign (results/topology.json) and
// decides the GPU source: under auto, NVML where this binary has it (-tags nvml) and it
// initialises, else nvidia-smi. A machine without GPUs, or a forced nvml that does not work,
// records telemetry as absent, with the reason.
func detectTelemetry(ctx context.Context, t spec.Telemetry, opts Options, root string) telemetry {
	tel := telemetry{mode: t.GPU, interval: t.Interval.D(), dcgmURL: t.DCGMURL, smi: opts.SMI, traces: t.Traces}
	switch t.GPU {
	case "none":
		tel.absent = "telemetry.gpu is none"
		return tel
	case "dcgm":
		tel.source = "dcgm"
		return tel
	}
	tel.topology = gpu.CaptureTopology(ctx, opts.SMI, opts.Now())
	_ = results.WriteJSON(filepath.Join(root, results.TopologyFile), tel.topology)
	switch nvmlErr := nvmlWorks(); {
	case nvmlErr == nil && t.GPU != "nvidia-smi":
		tel.source = "nvml"
	case t.GPU == "nvml":
		tel.absent = "telemetry.gpu nvml: " + nvmlErr.Error()
	case tel.topology.Status != gpu.StatusPresent:
		tel.absent = tel.topology.Reason
	default:
		tel.source = "nvidia-smi"
	}
	return tel
}

// nvmlWorks says why NVML cannot be used here: gpu.ErrNoNVML in the default build, NVML's
// error where it does not initialise or sees no GPU; nil when it works.
func nvmlWorks() error {
	if !gpu.NVMLAvailable() {
		return gpu.ErrNoNVML
	}
	_, err := gpu.NewNVMLSource(nil)
	return err
}

// sampler samples the GPUs of one server configuration, or returns nil when GPU telemetry is
// absent.
func (t telemetry) sampler(devices []int) gpu.Sampler {
	switch t.source {
	case "nvml":
		src, err := gpu.NewNVMLSource(devices)
		if err != nil {
			return gpu.NewSampler(gpu.SamplerOptions{}, failedSource{name: "nvml", err: err})
		}
		return gpu.NewSampler(gpu.SamplerOptions{}, src)
	case "nvidia-smi":
		return gpu.NewSampler(gpu.SamplerOptions{},
			&gpu.DmonSource{SMI: t.smi, GPUs: devices}, &gpu.QuerySource{SMI: t.smi, GPUs: devices})
	case "dcgm":
		return gpu.NewSampler(gpu.SamplerOptions{}, &gpu.DCGMSource{URL: t.dcgmURL})
	}
	return nil
}

// simSampler samples the simulated GPUs of a sim server set, under telemetry.gpu auto: a
// simulator runs no real GPU, so the machine's own GPUs would say nothing about it. Any other
// setting is honoured as given. nil when the set is not simulated.
func (t telemetry) simSampler(set *serverSet) gpu.Sampler {
	if set.cfg.Engine != spec.EngineSim || t.mode != "auto" || len(set.targets) == 0 {
		return nil
	}
	var srcs []gpu.Source
	for i, target := range set.targets {
		src := &gpu.SimSource{URL: target + sim.GPUMetricsPath}
		if i < len(set.instances) {
			src.Devices = set.instances[i].Devices
		}
		srcs = append(srcs, src)
	}
	return gpu.NewSampler(gpu.SamplerOptions{}, srcs...)
}

// gpuNames lists the names of the given GPUs as the topology saw them.
func (t telemetry) gpuNames(devices []int) []string {
	var names []string
	for _, d := range devices {
		for _, g := range t.topology.GPUs {
			if g.Index == d {
				names = append(names, g.Name)
			}
		}
	}
	return names
}

// failedSource is a source that could not be made: the sampler reports its error, which the
// experiment records as a telemetry note.
type failedSource struct {
	name string
	err  error
}

func (f failedSource) Name() string { return f.name }

func (f failedSource) Run(context.Context, time.Duration, func(gpu.Reading)) error { return f.err }
