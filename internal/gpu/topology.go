package gpu

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Telemetry states recorded with an experiment.
const (
	StatusPresent = "present"
	StatusAbsent  = "absent" // no nvidia-smi, no driver, no GPU: recorded, not an error
)

// GPUInfo describes one GPU.
type GPUInfo struct {
	Index          int     `json:"index"`
	UUID           string  `json:"uuid"`
	Name           string  `json:"name"`
	BusID          string  `json:"pci_bus_id"`
	MemoryTotalMiB float64 `json:"memory_total_mib"`
}

// Detection says whether GPU telemetry can be recorded here, and if not, why.
type Detection struct {
	Status string    `json:"status"`
	Reason string    `json:"reason,omitempty"`
	Driver string    `json:"driver_version,omitempty"`
	GPUs   []GPUInfo `json:"gpus,omitempty"`
}

// listFields are the fields of the GPU list query; name is last (it may hold commas).
const listFields = "index,uuid,pci.bus_id,memory.total,driver_version,name"

// Detect asks nvidia-smi for the GPUs. A machine without nvidia-smi, without a working
// driver or without GPUs gives StatusAbsent and the reason; it is not an error.
func Detect(ctx context.Context, smi SMI) Detection {
	out, err := smi.Output(ctx, "--query-gpu="+listFields, "--format=csv,noheader,nounits")
	if err != nil {
		return Detection{Status: StatusAbsent, Reason: absentReason(err)}
	}
	gpus, driver, err := ParseGPUList(out)
	if err != nil {
		return Detection{Status: StatusAbsent, Reason: "cannot read nvidia-smi's GPU list: " + err.Error()}
	}
	if len(gpus) == 0 {
		return Detection{Status: StatusAbsent, Reason: "nvidia-smi lists no GPU"}
	}
	return Detection{Status: StatusPresent, Driver: driver, GPUs: gpus}
}

// absentReason turns a failed nvidia-smi into the reason telemetry is absent.
func absentReason(err error) string {
	var se *SMIError
	out := ""
	if errors.As(err, &se) {
		out = se.Output
	}
	switch {
	case errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist):
		return "nvidia-smi not found (no NVIDIA driver installed?)"
	case strings.Contains(out, "No devices were found"):
		return "nvidia-smi found no NVIDIA GPU"
	case strings.Contains(out, "couldn't communicate with the NVIDIA driver"):
		return "the NVIDIA driver is not loaded: " + firstLine(out)
	}
	return "nvidia-smi failed: " + err.Error()
}

// ParseGPUList parses `nvidia-smi --query-gpu=index,uuid,pci.bus_id,memory.total,
// driver_version,name --format=csv,noheader,nounits`.
func ParseGPUList(data []byte) (gpus []GPUInfo, driver string, err error) {
	fields := strings.Split(listFields, ",")
	for n, line := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		vals, err := splitQuery(fields, line)
		if err != nil {
			return nil, "", fmt.Errorf("line %d: %w", n+1, err)
		}
		idx, err := strconv.Atoi(vals[0])
		if err != nil || idx < 0 {
			return nil, "", fmt.Errorf("line %d: bad GPU index %q", n+1, clip(vals[0]))
		}
		mem, err := parseValue(vals[3])
		if err != nil {
			return nil, "", fmt.Errorf("line %d: memory.total: %w", n+1, err)
		}
		gpus = append(gpus, GPUInfo{Index: idx, UUID: vals[1], BusID: vals[2], MemoryTotalMiB: mem, Name: vals[5]})
		driver = vals[4]
	}
	return gpus, driver, nil
}

// ParseVersion reads the driver and CUDA versions from `nvidia-smi --version` ("DRIVER
// version : 580.159.04", "CUDA Version : 13.0") or from the banner of a plain `nvidia-smi`
// ("Driver Version: 580.159.04     CUDA Version: 13.0").
func ParseVersion(data []byte) (driver, cuda string) {
	s := string(data)
	return versionAfter(s, "driver version"), versionAfter(s, "cuda version")
}

func versionAfter(s, key string) string {
	i := strings.Index(strings.ToLower(s), key)
	if i < 0 {
		return ""
	}
	rest := strings.TrimLeft(s[i+len(key):], " \t")
	rest = strings.TrimLeft(strings.TrimPrefix(rest, ":"), " \t")
	end := strings.IndexAny(rest, " \t\r\n|")
	if end >= 0 {
		rest = rest[:end]
	}
	if rest == "" || strings.ContainsAny(rest[:1], "0123456789") {
		return rest
	}
	return "" // "N/A" or junk
}

// Topology is the GPU side of a machine, captured once per campaign: models, memory, driver,
// CUDA version and how the GPUs are linked, with nvidia-smi's own text kept.
type Topology struct {
	Detection
	CUDA         string      `json:"cuda_version,omitempty"`
	Matrix       *TopoMatrix `json:"topo,omitempty"`
	Interconnect string      `json:"interconnect,omitempty"` // single, nvlink-all, nvlink-partial, pcie
	Summary      string      `json:"summary"`
	TopoRaw      string      `json:"topo_m_raw,omitempty"`
	Warnings     []string    `json:"warnings,omitempty"`
	CapturedAt   time.Time   `json:"captured_at"`
}

// CaptureTopology records the machine's GPUs and their links. It never fails: with no GPU
// the topology is StatusAbsent with the reason, and what could not be read is a warning.
func CaptureTopology(ctx context.Context, smi SMI, now time.Time) Topology {
	t := Topology{Detection: Detect(ctx, smi), CapturedAt: now.UTC()}
	if t.Status != StatusPresent {
		t.Summary = "no GPU telemetry: " + t.Reason
		return t
	}
	t.readVersions(ctx, smi)
	raw, err := smi.Output(ctx, "topo", "-m")
	if err != nil {
		t.Warnings = append(t.Warnings, "topo -m: "+err.Error())
	} else {
		t.TopoRaw = string(raw)
		m, err := ParseTopo(raw)
		if err != nil {
			t.Warnings = append(t.Warnings, err.Error())
		} else {
			t.Matrix = &m
		}
	}
	t.Summary = t.summary()
	return t
}

func (t *Topology) readVersions(ctx context.Context, smi SMI) {
	out, err := smi.Output(ctx, "--version")
	drv, cuda := ParseVersion(out)
	if err != nil || cuda == "" {
		out, err = smi.Output(ctx)
		drv, cuda = ParseVersion(out)
	}
	if err != nil {
		t.Warnings = append(t.Warnings, "driver and CUDA versions: "+err.Error())
	}
	if drv != "" {
		t.Driver = drv
	}
	t.CUDA = cuda
}

// summary is one line: "4× NVIDIA H100 80GB HBM3 (81559 MiB), all pairs NVLink NV18".
func (t *Topology) summary() string {
	var parts []string
	seen := map[string]int{}
	var order []string
	for _, g := range t.GPUs {
		key := fmt.Sprintf("%s (%.0f MiB)", g.Name, g.MemoryTotalMiB)
		if seen[key] == 0 {
			order = append(order, key)
		}
		seen[key]++
	}
	for _, k := range order {
		parts = append(parts, fmt.Sprintf("%d× %s", seen[k], k))
	}
	s := strings.Join(parts, " + ")
	switch {
	case t.Matrix != nil:
		t.Interconnect, _ = t.Matrix.GPUInterconnect()
		_, text := t.Matrix.GPUInterconnect()
		s += ", " + text
	case len(t.GPUs) == 1:
		t.Interconnect = InterconnectSingle
	default:
		s += ", interconnect unknown"
	}
	return s
}
