package campaign

import (
	"context"
	"path/filepath"
	"time"

	"github.com/llmscale/llmscale/internal/gpu"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/spec"
)

// telemetry is how GPUs are sampled in this campaign, decided once.
type telemetry struct {
	interval time.Duration
	source   string // nvidia-smi | dcgm | "" (none)
	absent   string // why GPUs are not sampled, when source is ""
	dcgmURL  string
	smi      gpu.SMI
	topology gpu.Topology
}

// detectTelemetry captures the GPU topology once per campaign (results/topology.json) and
// decides the GPU source. A machine without GPUs records telemetry as absent, with the reason.
func detectTelemetry(ctx context.Context, t spec.Telemetry, opts Options, root string) telemetry {
	tel := telemetry{interval: t.Interval.D(), dcgmURL: t.DCGMURL, smi: opts.SMI}
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
	if tel.topology.Status != gpu.StatusPresent {
		tel.absent = tel.topology.Reason
		return tel
	}
	tel.source = "nvidia-smi"
	return tel
}

// sampler samples the GPUs of one server configuration, or returns nil when GPU telemetry is
// absent.
func (t telemetry) sampler(devices []int) gpu.Sampler {
	switch t.source {
	case "nvidia-smi":
		return gpu.NewSampler(gpu.SamplerOptions{},
			&gpu.DmonSource{SMI: t.smi, GPUs: devices}, &gpu.QuerySource{SMI: t.smi, GPUs: devices})
	case "dcgm":
		return gpu.NewSampler(gpu.SamplerOptions{}, &gpu.DCGMSource{URL: t.dcgmURL})
	}
	return nil
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
