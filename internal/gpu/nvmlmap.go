package gpu

import (
	"encoding/binary"
	"errors"
	"math"
	"time"
)

// nvmlGPU is one GPU an NVMLSource reads.
type nvmlGPU struct {
	index      int
	uuid, name string
	dev        nvmlDevice
	gpm        gpmPair
	slow       Metrics   // the values read every nvmlSlowEvery, carried in between
	slowAt     time.Time // when they were read; zero: never
}

// nvmlSlowEvery is how often the values that change seldom (power limit, P-state, PCIe link,
// ECC, MIG mode) and those of nvmlDeviceGetFieldValues (instant power, memory temperature,
// energy and throttle counters) are read; the others are read at every poll. On the H100
// machine a poll of everything cost ~7 ms of CPU per GPU (docs/gpu.md) while the lead's C
// benchmark of the every-poll calls cost ~0.03 ms per GPU: the rest goes to the GPU's
// firmware, whose answers the driver waits for by polling.
const nvmlSlowEvery = time.Second

// The NVML calls a poll makes, for NVMLStats.Calls.
const (
	callUtilization = iota
	callMemory
	callPower
	callClocks
	callTemperature
	callClockEvents
	callGPM
	callPowerLimit
	callPState
	callPCIeLink
	callECC
	callMIG
	callFields
	numNVMLCalls
)

func nvmlCallNames() [numNVMLCalls]string {
	return [numNVMLCalls]string{"utilization", "memory", "power", "clocks", "temperature", "clock_events",
		"gpm", "power_limit", "pstate", "pcie_link", "ecc", "mig", "fields"}
}

// nvmlCosts is how many times each NVML call was made and the time it took, all GPUs together.
type nvmlCosts [numNVMLCalls]struct {
	n    int64
	wall time.Duration
}

// read asks NVML for every metric of the GPU, in the units the nvidia-smi sources give them
// (MiB, W, MHz, °C, µs, MiB/s): the seldom-changing ones every nvmlSlowEvery, the others
// now. A value the GPU does not offer is NaN; a value NVML fails to give for another reason
// is NaN too, unless nothing at all could be read (a lost GPU, a driver gone): the error.
func (g *nvmlGPU) read(now time.Time, costs *nvmlCosts) (Reading, error) {
	r := Reading{Index: g.index, UUID: g.uuid, Name: g.name, Metrics: NoMetrics()}
	rd := nvmlReader{m: &r.Metrics, costs: costs}
	d := g.dev
	rd.pair(callUtilization, SMUtilPct, MemBWUtilPct, 1, func() nvmlValue { return two(d.Utilization()) })
	rd.pair(callMemory, MemUsedMiB, MemTotalMiB, 1.0/(1<<20), func() nvmlValue { return two(d.Memory()) })
	rd.one(callPower, PowerW, 1e-3, func() nvmlValue { return one(d.Power()) })
	rd.pair(callClocks, SMClockMHz, MemClockMHz, 1, func() nvmlValue { return two(d.Clocks()) })
	rd.one(callTemperature, TempC, 1, func() nvmlValue { return one(d.Temperature()) })
	rd.one(callClockEvents, ClockEventReasons, 1, func() nvmlValue { return one(d.ClockEventReasons()) })
	rd.timed(callGPM, func() { g.gpm.step(d, now, rd.m) })
	if g.slowAt.IsZero() || now.Sub(g.slowAt) >= nvmlSlowEvery {
		g.slow, g.slowAt = g.readSlow(costs, &rd), now
	}
	r.Metrics.Merge(g.slow)
	if rd.got == 0 && rd.err != nil {
		return r, rd.err
	}
	return r, nil
}

// readSlow reads the values of nvmlSlowEvery.
func (g *nvmlGPU) readSlow(costs *nvmlCosts, fast *nvmlReader) Metrics {
	m := NoMetrics()
	rd := nvmlReader{m: &m, costs: costs}
	d := g.dev
	rd.one(callPowerLimit, PowerLimitW, 1e-3, func() nvmlValue { return one(d.PowerLimit()) })
	rd.one(callPState, PState, 1, func() nvmlValue {
		v := one(d.PState())
		if v.err == nil && (v.x < 0 || v.x > 15) {
			v.err = errNVMLUnsupported // NVML_PSTATE_UNKNOWN
		}
		return v
	})
	rd.pair(callPCIeLink, PCIeLinkGen, PCIeLinkWidth, 1, func() nvmlValue { return two(d.PCIeLink()) })
	rd.one(callECC, ECCUncorrected, 1, func() nvmlValue { return one(d.ECCUncorrected()) })
	rd.one(callMIG, MIGEnabled, 1, func() nvmlValue { return one(d.MIGMode()) })
	rd.timed(callFields, func() { rd.fields(d) })
	fast.got += rd.got
	if fast.err == nil {
		fast.err = rd.err
	}
	return m
}

// nvmlReader fills m, counts the values read, keeps the first failure that was not
// "unsupported", and adds each call's time to costs.
type nvmlReader struct {
	m     *Metrics
	costs *nvmlCosts
	got   int
	err   error
}

func (rd *nvmlReader) note(err error) bool {
	if err == nil {
		rd.got++
		return true
	}
	if rd.err == nil && !errors.Is(err, errors.ErrUnsupported) {
		rd.err = err
	}
	return false
}

func (rd *nvmlReader) timed(call int, f func()) {
	start := time.Now()
	f()
	rd.costs[call].n++
	rd.costs[call].wall += time.Since(start)
}

func (rd *nvmlReader) one(call int, k Metric, scale float64, f func() nvmlValue) {
	var v nvmlValue
	rd.timed(call, func() { v = f() })
	if rd.note(v.err) {
		rd.m[k] = v.x * scale
	}
}

func (rd *nvmlReader) pair(call int, a, b Metric, scale float64, f func() nvmlValue) {
	var v nvmlValue
	rd.timed(call, func() { v = f() })
	if rd.note(v.err) {
		rd.m[a], rd.m[b] = v.x*scale, v.y*scale
	}
}

// fields reads the values only nvmlDeviceGetFieldValues gives, in one call.
func (rd *nvmlReader) fields(d nvmlDevice) {
	want := nvmlFieldMetrics()
	ids := make([]uint32, len(want))
	for i, f := range want {
		ids[i] = f.id
	}
	vals, err := d.Fields(ids)
	if !rd.note(err) {
		return
	}
	for _, v := range vals {
		for _, f := range want {
			if x, ok := fieldValue(v); ok && v.ID == f.id {
				rd.m[f.metric] = x * f.scale
			}
		}
	}
}

// nvmlField IDs (nvml.h NVML_FI_DEV_*) and what they fill.
const (
	nvmlFIPerfPolicyPower   = 74  // NVML_FI_DEV_CLOCKS_EVENT_REASON_SW_POWER_CAP, ns
	nvmlFIMemoryTemp        = 82  // °C
	nvmlFITotalEnergy       = 83  // mJ since the driver loaded
	nvmlFIPowerInstant      = 186 // mW
	nvmlFIEventSWThermal    = 269 // ns
	nvmlFIEventHWThermal    = 270 // ns
	nvmlFIEventHWPowerBrake = 271 // ns
)

type nvmlFieldMetric struct {
	id     uint32
	metric Metric
	scale  float64
}

func nvmlFieldMetrics() []nvmlFieldMetric {
	return []nvmlFieldMetric{
		{nvmlFIPowerInstant, PowerInstantW, 1e-3},
		{nvmlFIMemoryTemp, MemTempC, 1},
		{nvmlFITotalEnergy, EnergyJ, 1e-3},
		{nvmlFIPerfPolicyPower, ThrottleSWPowerUs, 1e-3},
		{nvmlFIEventSWThermal, ThrottleSWThermalUs, 1e-3},
		{nvmlFIEventHWThermal, ThrottleHWThermalUs, 1e-3},
		{nvmlFIEventHWPowerBrake, ThrottleHWPowerBrakeUs, 1e-3},
	}
}

// fieldValue decodes a field's value by its nvmlValueType_t (little-endian, as on every
// platform NVML runs on).
func fieldValue(f nvmlField) (float64, bool) {
	if f.Ret != 0 {
		return 0, false
	}
	b := f.Raw[:]
	var x float64
	switch f.Type {
	case 0: // double
		x = math.Float64frombits(binary.LittleEndian.Uint64(b))
	case 1: // unsigned int
		x = float64(binary.LittleEndian.Uint32(b))
	case 2, 3: // unsigned long, unsigned long long (64-bit on Linux)
		x = float64(binary.LittleEndian.Uint64(b))
	case 4: // signed long long
		x = float64(int64(binary.LittleEndian.Uint64(b)))
	case 5: // signed int
		x = float64(int32(binary.LittleEndian.Uint32(b)))
	case 6: // unsigned short
		x = float64(binary.LittleEndian.Uint16(b))
	default:
		return 0, false
	}
	return x, !math.IsNaN(x) && !math.IsInf(x, 0)
}

// gpmMinInterval: nvmlGpmMetricsGet wants its two samples more than 100 ms apart.
const gpmMinInterval = 100 * time.Millisecond

// nvmlGPM are the GPM metric IDs read (nvml.h NVML_GPM_METRIC_*), those dmon's
// --gpm-metrics 1,2,3,5,10,20,21,60,61 give, with the Metric each fills (% and MiB/s both).
func nvmlGPM() map[uint32]Metric {
	return map[uint32]Metric{
		1: GrEngineActivePct, 2: SMActivePct, 3: SMOccupancyPct, 5: TensorActivePct, 10: DRAMActivePct,
		20: PCIeTxMiBps, 21: PCIeRxMiBps, 60: NVLinkRxMiBps, 61: NVLinkTxMiBps,
	}
}

func nvmlGPMIDs() []uint32 { return []uint32{1, 2, 3, 5, 10, 20, 21, 60, 61} }

// gpmPair keeps a GPU's GPM sample buffers: each read takes a sample and computes the metrics
// over the interval since the last one, or reuses the last metrics when that was less than
// gpmMinInterval ago. The first read has none (NaN), as dmon's "-".
type gpmPair struct {
	ok     bool      // the GPU offers GPM
	last   int       // the slot with the newest sample; -1 none
	at     time.Time // when it was taken
	values Metrics   // the last metrics computed
	have   bool      // values is set
}

func (p *gpmPair) step(d nvmlDevice, now time.Time, m *Metrics) {
	if !p.ok {
		return
	}
	if p.last >= 0 && now.Sub(p.at) < gpmMinInterval {
		if p.have {
			m.Merge(p.values)
		}
		return
	}
	slot := 1 - max(p.last, 0)
	if err := d.GPMSample(slot); err != nil {
		p.last, p.have = -1, false
		p.ok = !errors.Is(err, errors.ErrUnsupported)
		return
	}
	if p.last >= 0 {
		p.have = false
		if vals, err := d.GPMMetrics(p.last, slot, nvmlGPMIDs()); err == nil {
			p.values, p.have = gpmMetrics(vals), true
			m.Merge(p.values)
		}
	}
	p.last, p.at = slot, now
}

// gpmMetrics maps GPM results to Metrics; failed or unknown ones are NaN.
func gpmMetrics(vals []nvmlGPMValue) Metrics {
	m := NoMetrics()
	ids := nvmlGPM()
	for _, v := range vals {
		if k, ok := ids[v.ID]; ok && v.Ret == 0 && !math.IsInf(v.Value, 0) {
			m[k] = v.Value
		}
	}
	return m
}

// nvmlValue is one or two values of an NVML call, as float64s, and its error.
type nvmlValue struct {
	x, y float64
	err  error
}

func one[T uint32 | uint64 | int](a T, err error) nvmlValue {
	return nvmlValue{x: float64(a), err: err}
}

func two[T uint32 | uint64 | int](a, b T, err error) nvmlValue {
	return nvmlValue{x: float64(a), y: float64(b), err: err}
}
