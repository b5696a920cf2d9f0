package resultstree

import (
	"cmp"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/llmscale/llmscale/internal/aggregate"
	"github.com/llmscale/llmscale/internal/gpu"
	"github.com/llmscale/llmscale/internal/reportdata"
	"github.com/llmscale/llmscale/internal/results"
)

// buildCampaign fills the campaign's description from campaign.json, topology.json and the
// experiments' own records (recs, by experiment id; rows for what the server reported).
// Every file is optional: what is missing stays empty, and the problem goes to problems.
func buildCampaign(root string, rows []aggregate.Row, recs map[string]*results.Experiment, problems *[]error) reportdata.Campaign {
	var idx results.CampaignIndex
	if err := results.ReadJSON(filepath.Join(root, results.CampaignFile), &idx); err != nil {
		*problems = append(*problems, fmt.Errorf("%s: %w", results.CampaignFile, err))
	}
	c := reportdata.Campaign{
		Name: idx.Campaign, Model: idx.Model, Engine: idx.Engine, Host: idx.Host,
		MatrixFile: idx.MatrixFile, MatrixYAML: idx.MatrixYAML, Start: idx.StartedAt, End: idx.UpdatedAt,
		Planned: len(idx.Experiments),
	}
	fillFromRecords(&c, recs)
	countStates(&c, idx, recs)
	var topo gpu.Topology
	topoErr := results.ReadJSON(filepath.Join(root, results.TopologyFile), &topo)
	fillHardware(&c, topo, topoErr == nil, rows)
	c.Versions = versions(idx.Tool, rows, topo)
	return c
}

// fillFromRecords completes what campaign.json did not say from the experiments' records,
// and takes the campaign's end from the last experiment that ended.
func fillFromRecords(c *reportdata.Campaign, recs map[string]*results.Experiment) {
	var last time.Time
	for _, id := range sortedKeys(recs) {
		r := recs[id]
		c.Name = cmp.Or(c.Name, r.Campaign)
		c.Model = cmp.Or(c.Model, r.Server.Model)
		c.Engine = cmp.Or(c.Engine, r.Server.Engine)
		c.Host = cmp.Or(c.Host, r.Host)
		c.MatrixFile = cmp.Or(c.MatrixFile, r.MatrixFile)
		if !r.StartedAt.IsZero() && (c.Start.IsZero() || r.StartedAt.Before(c.Start)) {
			c.Start = r.StartedAt
		}
		if r.EndedAt.After(last) {
			last = r.EndedAt
		}
	}
	if !last.IsZero() {
		c.End = last
	}
}

// countStates counts done and failed experiments: experiment.json is the authority, the
// index covers those that never started.
func countStates(c *reportdata.Campaign, idx results.CampaignIndex, recs map[string]*results.Experiment) {
	status := map[string]string{}
	for _, e := range idx.Experiments {
		status[e.ID] = e.Status
	}
	for id, r := range recs {
		status[id] = r.Status
	}
	for _, s := range status {
		switch s {
		case results.StatusDone:
			c.Done++
		case results.StatusFailed:
			c.Failed++
		}
	}
	c.Planned = max(c.Planned, len(status))
}

// fillHardware names the GPUs and their interconnect: the machine's from topology.json, else
// the simulated ones the simulator reported (llmscale:sim_info).
func fillHardware(c *reportdata.Campaign, topo gpu.Topology, haveTopo bool, rows []aggregate.Row) {
	if haveTopo && topo.Status == gpu.StatusPresent && len(topo.GPUs) > 0 {
		for _, g := range topo.GPUs {
			c.GPUs = append(c.GPUs, g.Name)
		}
		switch {
		case topo.Matrix != nil:
			_, c.Interconnect = topo.Matrix.GPUInterconnect()
		case len(topo.GPUs) == 1:
			c.Interconnect = "one GPU"
		}
		return
	}
	maxGPUs, simGPU, simLink := 0, "", ""
	for i := range rows {
		r := &rows[i]
		maxGPUs = max(maxGPUs, int(r.GPUs))
		info := labelMap(r.SimInfo)
		simGPU, simLink = cmp.Or(simGPU, info["gpu"]), cmp.Or(simLink, info["interconnect"])
	}
	if simGPU != "" {
		for range max(maxGPUs, 1) {
			c.GPUs = append(c.GPUs, simGPU+" (simulated)")
		}
	}
	switch {
	case simLink != "":
		c.Interconnect = simLink + " (simulated)"
	case haveTopo && topo.Status != gpu.StatusPresent:
		c.Interconnect = strings.TrimSpace("no GPUs seen: " + topo.Reason)
	}
}

// versions lists the tool's, every engine's server version and the GPU driver's and CUDA's.
func versions(tool string, rows []aggregate.Row, topo gpu.Topology) []reportdata.NameValue {
	var out []reportdata.NameValue
	if tool != "" {
		out = append(out, reportdata.NameValue{Name: "llmscale", Value: tool})
	}
	byEngine := map[string][]string{}
	var engines []string
	for i := range rows {
		r := &rows[i]
		if r.ServerVersion == "" {
			continue
		}
		if _, ok := byEngine[r.Engine]; !ok {
			engines = append(engines, r.Engine)
		}
		if !slices.Contains(byEngine[r.Engine], r.ServerVersion) {
			byEngine[r.Engine] = append(byEngine[r.Engine], r.ServerVersion)
		}
	}
	for _, e := range engines {
		out = append(out, reportdata.NameValue{Name: cmp.Or(e, "server"), Value: strings.Join(byEngine[e], ", ")})
	}
	if topo.Driver != "" {
		out = append(out, reportdata.NameValue{Name: "NVIDIA driver", Value: topo.Driver})
	}
	if topo.CUDA != "" {
		out = append(out, reportdata.NameValue{Name: "CUDA", Value: topo.CUDA})
	}
	return out
}

// labelMap reads "k=v;k=v" (aggregate's sim_info column).
func labelMap(s string) map[string]string {
	out := map[string]string{}
	for _, part := range strings.Split(s, ";") {
		if k, v, ok := strings.Cut(part, "="); ok {
			out[k] = v
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
