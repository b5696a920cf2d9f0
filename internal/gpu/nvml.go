//go:build nvml && cgo && linux

package gpu

import (
	"fmt"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
	"golang.org/x/sys/unix"
)

// nvmlBuiltIn: this binary was built with -tags nvml and cgo; go-nvml dlopens
// libnvidia-ml.so.1 when a source opens it, so the binary still starts without a driver.
const nvmlBuiltIn = true

// goNVML is nvmlLib over go-nvml. Functions newer drivers renamed or added are looked up
// first: calling one libnvidia-ml lacks would crash.
type goNVML struct {
	lib        nvml.Interface
	memV2      bool // nvmlDeviceGetMemoryInfo_v2 (used without the reserved memory, as nvidia-smi)
	eventNames bool // nvmlDeviceGetCurrentClocksEventReasons (else …ThrottleReasons)
	gpm        bool // nvmlGpmSampleGet and friends
}

func openNVML() (nvmlLib, error) {
	lib := nvml.New()
	if ret := lib.Init(); ret != nvml.SUCCESS {
		if ret == nvml.ERROR_LIBRARY_NOT_FOUND {
			return nil, fmt.Errorf("nvml init: libnvidia-ml.so.1 not found (no NVIDIA driver here?): %w", nvmlErr(ret))
		}
		return nil, fmt.Errorf("nvml init: %w", nvmlErr(ret))
	}
	has := func(sym string) bool { return lib.Extensions().LookupSymbol(sym) == nil }
	return &goNVML{
		lib:        lib,
		memV2:      has("nvmlDeviceGetMemoryInfo_v2"),
		eventNames: has("nvmlDeviceGetCurrentClocksEventReasons"),
		gpm:        has("nvmlGpmSampleGet") && has("nvmlGpmMetricsGet") && has("nvmlGpmQueryDeviceSupport"),
	}, nil
}

// nvmlErr turns an nvmlReturn_t into an error: nil for success, errNVMLUnsupported for
// "not supported" (the metric is NaN, silently).
func nvmlErr(ret nvml.Return) error {
	switch ret {
	case nvml.SUCCESS:
		return nil
	case nvml.ERROR_NOT_SUPPORTED, nvml.ERROR_FUNCTION_NOT_FOUND:
		return errNVMLUnsupported
	}
	return fmt.Errorf("%s (return %d)", nvml.ErrorString(ret), int32(ret))
}

func (l *goNVML) DeviceCount() (int, error) {
	n, ret := l.lib.DeviceGetCount()
	return n, nvmlErr(ret)
}

func (l *goNVML) Device(index int) (nvmlDevice, error) {
	d, ret := l.lib.DeviceGetHandleByIndex(index)
	if err := nvmlErr(ret); err != nil {
		return nil, err
	}
	dev := &goDevice{lib: l, d: d}
	if l.gpm {
		dev.allocGPM()
	}
	return dev, nil
}

func (l *goNVML) Shutdown() error { return nvmlErr(l.lib.Shutdown()) }

func (l *goNVML) ThreadCPU() time.Duration {
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_THREAD, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// goDevice is nvmlDevice over a go-nvml handle.
type goDevice struct {
	lib     *goNVML
	d       nvml.Device
	samples []nvml.GpmSample // two GPM buffers where GPM is supported
}

func (g *goDevice) allocGPM() {
	sup, ret := g.d.GpmQueryDeviceSupport()
	if ret != nvml.SUCCESS || sup.IsSupportedDevice == 0 {
		return
	}
	for range 2 {
		s, ret := g.lib.lib.GpmSampleAlloc()
		if ret != nvml.SUCCESS {
			g.Close()
			return
		}
		g.samples = append(g.samples, s)
	}
}

func (g *goDevice) Close() {
	for _, s := range g.samples {
		s.Free()
	}
	g.samples = nil
}

func (g *goDevice) UUID() (string, error) {
	s, ret := g.d.GetUUID()
	return s, nvmlErr(ret)
}

func (g *goDevice) Name() (string, error) {
	s, ret := g.d.GetName()
	return s, nvmlErr(ret)
}

func (g *goDevice) Utilization() (uint32, uint32, error) {
	u, ret := g.d.GetUtilizationRates()
	return u.Gpu, u.Memory, nvmlErr(ret)
}

func (g *goDevice) Memory() (uint64, uint64, error) {
	if g.lib.memV2 {
		m, ret := g.d.GetMemoryInfo_v2()
		return m.Used, m.Total, nvmlErr(ret)
	}
	m, ret := g.d.GetMemoryInfo()
	return m.Used, m.Total, nvmlErr(ret)
}

func (g *goDevice) Power() (uint32, error) {
	p, ret := g.d.GetPowerUsage()
	return p, nvmlErr(ret)
}

func (g *goDevice) PowerLimit() (uint32, error) {
	p, ret := g.d.GetEnforcedPowerLimit()
	return p, nvmlErr(ret)
}

func (g *goDevice) Clocks() (uint32, uint32, error) {
	sm, ret := g.d.GetClockInfo(nvml.CLOCK_SM)
	if err := nvmlErr(ret); err != nil {
		return 0, 0, err
	}
	mem, ret := g.d.GetClockInfo(nvml.CLOCK_MEM)
	return sm, mem, nvmlErr(ret)
}

func (g *goDevice) Temperature() (uint32, error) {
	t, ret := g.d.GetTemperature(nvml.TEMPERATURE_GPU)
	return t, nvmlErr(ret)
}

func (g *goDevice) PState() (int, error) {
	p, ret := g.d.GetPerformanceState()
	return int(p), nvmlErr(ret)
}

func (g *goDevice) ClockEventReasons() (uint64, error) {
	if g.lib.eventNames {
		r, ret := g.d.GetCurrentClocksEventReasons()
		return r, nvmlErr(ret)
	}
	r, ret := g.d.GetCurrentClocksThrottleReasons()
	return r, nvmlErr(ret)
}

func (g *goDevice) PCIeLink() (int, int, error) {
	gen, ret := g.d.GetCurrPcieLinkGeneration()
	if err := nvmlErr(ret); err != nil {
		return 0, 0, err
	}
	width, ret := g.d.GetCurrPcieLinkWidth()
	return gen, width, nvmlErr(ret)
}

func (g *goDevice) ECCUncorrected() (uint64, error) {
	n, ret := g.d.GetTotalEccErrors(nvml.MEMORY_ERROR_TYPE_UNCORRECTED, nvml.VOLATILE_ECC)
	return n, nvmlErr(ret)
}

func (g *goDevice) MIGMode() (int, error) {
	cur, _, ret := g.d.GetMigMode()
	return cur, nvmlErr(ret)
}

func (g *goDevice) Fields(ids []uint32) ([]nvmlField, error) {
	vals := make([]nvml.FieldValue, len(ids))
	for i, id := range ids {
		vals[i].FieldId = id
	}
	if err := nvmlErr(g.d.GetFieldValues(vals)); err != nil {
		return nil, err
	}
	out := make([]nvmlField, len(vals))
	for i, v := range vals {
		out[i] = nvmlField{ID: v.FieldId, Type: v.ValueType, Ret: v.NvmlReturn, Raw: v.Value}
	}
	return out, nil
}

func (g *goDevice) GPMSupported() bool { return len(g.samples) == 2 }

func (g *goDevice) GPMSample(slot int) error {
	if len(g.samples) != 2 {
		return errNVMLUnsupported
	}
	return nvmlErr(g.d.GpmSampleGet(g.samples[slot]))
}

func (g *goDevice) GPMMetrics(from, to int, ids []uint32) ([]nvmlGPMValue, error) {
	if len(g.samples) != 2 {
		return nil, errNVMLUnsupported
	}
	mg := nvml.GpmMetricsGetType{NumMetrics: uint32(len(ids)), Sample1: g.samples[from], Sample2: g.samples[to]}
	for i, id := range ids {
		mg.Metrics[i].MetricId = id
	}
	if err := nvmlErr(g.lib.lib.GpmMetricsGet(&mg)); err != nil {
		return nil, err
	}
	out := make([]nvmlGPMValue, len(ids))
	for i := range ids {
		out[i] = nvmlGPMValue{ID: mg.Metrics[i].MetricId, Ret: mg.Metrics[i].NvmlReturn, Value: mg.Metrics[i].Value}
	}
	return out, nil
}
