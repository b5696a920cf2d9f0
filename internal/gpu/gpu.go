// Package gpu records GPU telemetry during an experiment: a Sampler emits one Sample per GPU
// at every instant of a fixed grid (start + k·interval, so samples join with the other
// telemetry and the request rows), and Record writes them to gpu.parquet. Samplers read
// nvidia-smi's query mode (one long-running child), nvidia-smi dmon (GPM metrics: SM activity,
// tensor activity, DRAM activity, NVLink and PCIe throughput), a DCGM exporter's /metrics, or
// a fake for tests. Topology is captured once per campaign. The parsers are pure functions of
// bytes, tested against real captures from an H100 machine in testdata/nvidia-smi/.
package gpu

import (
	"fmt"
	"math"
	"time"
)

// Metric names one measured quantity of a GPU. Every metric is a float64 in the unit its
// column name carries; NaN means "not available" (the source does not offer it, reported
// "[N/A]" or "[Not Supported]", or has not measured it yet).
type Metric int

// The metrics, in column order.
const (
	SMUtilPct              Metric = iota // NVML utilization.gpu: % of time ≥1 kernel ran (time-based; saturates early)
	MemBWUtilPct                         // NVML utilization.memory: % of time device memory was read or written
	MemUsedMiB                           // framebuffer memory used
	MemTotalMiB                          // framebuffer memory total
	PowerW                               // board power; nvidia-smi power.draw is a 1 s average on Ampere and newer
	PowerInstantW                        // instantaneous board power
	PowerLimitW                          // enforced power limit
	SMClockMHz                           // SM clock
	MemClockMHz                          // memory clock
	TempC                                // GPU temperature
	MemTempC                             // HBM temperature
	PState                               // performance state: 0 for P0 … 15 for P15
	ClockEventReasons                    // NVML clocks event (throttle) reasons bitmask, see Reasons
	ThrottleSWPowerUs                    // cumulative µs the SW power cap held clocks down
	ThrottleSWThermalUs                  // cumulative µs of SW thermal slowdown
	ThrottleHWThermalUs                  // cumulative µs of HW thermal slowdown
	ThrottleHWPowerBrakeUs               // cumulative µs of HW power brake slowdown
	PowerViolationPct                    // dmon pviol: % of the interval the power cap held clocks down
	ThermalViolation                     // dmon tviol: thermal violation (0/1)
	PCIeLinkGen                          // current PCIe generation
	PCIeLinkWidth                        // current PCIe link width (lanes)
	ECCUncorrected                       // volatile uncorrected ECC errors
	MIGEnabled                           // 1 when MIG mode is on
	SMActivePct                          // GPM / DCGM_FI_PROF_SM_ACTIVE: % of SMs busy, averaged over time
	SMOccupancyPct                       // GPM / DCGM_FI_PROF_SM_OCCUPANCY: % of warp slots resident
	TensorActivePct                      // GPM / DCGM_FI_PROF_PIPE_TENSOR_ACTIVE: % of cycles the tensor pipe was busy
	DRAMActivePct                        // GPM / DCGM_FI_PROF_DRAM_ACTIVE: % of cycles the DRAM interface was busy
	GrEngineActivePct                    // GPM / DCGM_FI_PROF_GR_ENGINE_ACTIVE: % of time the graphics engine was active
	PCIeTxMiBps                          // PCIe transmit throughput
	PCIeRxMiBps                          // PCIe receive throughput
	NVLinkTxMiBps                        // NVLink transmit throughput, all links
	NVLinkRxMiBps                        // NVLink receive throughput, all links
	EnergyJ                              // cumulative energy since the driver loaded (DCGM only)
	numMetrics
)

// String is the metric's column name, unit included.
func (m Metric) String() string {
	names := [numMetrics]string{
		"sm_util_pct", "mem_bw_util_pct", "mem_used_mib", "mem_total_mib", "power_w", "power_instant_w",
		"power_limit_w", "sm_clock_mhz", "mem_clock_mhz", "temp_c", "mem_temp_c", "pstate",
		"clock_event_reasons", "throttle_sw_power_us", "throttle_sw_thermal_us", "throttle_hw_thermal_us",
		"throttle_hw_power_brake_us", "power_violation_pct", "thermal_violation", "pcie_link_gen",
		"pcie_link_width", "ecc_uncorrected", "mig_enabled", "sm_active_pct", "sm_occupancy_pct",
		"tensor_active_pct", "dram_active_pct", "gr_engine_active_pct", "pcie_tx_mib_per_s",
		"pcie_rx_mib_per_s", "nvlink_tx_mib_per_s", "nvlink_rx_mib_per_s", "energy_j",
	}
	if m < 0 || m >= numMetrics {
		return "unknown"
	}
	return names[m]
}

// Metrics holds one value per Metric; NaN where not available.
type Metrics [numMetrics]float64

// NoMetrics is a Metrics with every value not available.
func NoMetrics() Metrics {
	var m Metrics
	for i := range m {
		m[i] = math.NaN()
	}
	return m
}

// Merge copies every available value of o over m.
func (m *Metrics) Merge(o Metrics) {
	for i, v := range o {
		if !math.IsNaN(v) {
			m[i] = v
		}
	}
}

// Has reports whether metric k is available.
func (m Metrics) Has(k Metric) bool { return !math.IsNaN(m[k]) }

// Reading is what one source said about one GPU at one moment: the values it offers, NaN
// for the others. At is when the reading arrived (zero from the pure parsers).
type Reading struct {
	Index   int
	UUID    string
	Name    string
	At      time.Time
	Metrics Metrics
}

// Sample is one GPU at one grid instant: the latest readings of every source merged, with
// their age. Tick k is at Grid.At(k); Offset is Time minus the grid's start.
type Sample struct {
	Tick    int64
	Time    time.Time
	Offset  time.Duration
	Age     time.Duration // Time minus when the freshest merged reading arrived
	Index   int
	UUID    string
	Name    string
	Source  string
	Metrics Metrics
}

// Tick is every GPU's Sample at one grid instant.
type Tick struct {
	K       int64
	At      time.Time
	Samples []Sample
}

// Grid is the sampling grid: instant k is Start + k·Interval. Start is shared with the other
// telemetry of an experiment so that their rows join.
type Grid struct {
	Start    time.Time
	Interval time.Duration
}

// At is instant k.
func (g Grid) At(k int64) time.Time { return g.Start.Add(time.Duration(k) * g.Interval) }

// Next is the first instant at or after t (instant 0 if t is before Start).
func (g Grid) Next(t time.Time) int64 {
	if g.Interval <= 0 || !t.After(g.Start) {
		return 0
	}
	d := t.Sub(g.Start)
	k := int64(d / g.Interval)
	if d%g.Interval != 0 {
		k++
	}
	return k
}

// Reasons names the bits of an NVML clocks event reasons mask (ClockEventReasons), in bit
// order: "gpu_idle", "sw_power_cap", "sw_thermal_slowdown", … Unknown bits are named by value.
func Reasons(mask uint64) []string {
	var out []string
	for bit := uint64(1); bit != 0 && bit <= mask; bit <<= 1 {
		if mask&bit == 0 {
			continue
		}
		out = append(out, reasonName(bit))
	}
	return out
}

// reasonName names one of nvml.h's nvmlClocksEventReason* bits.
func reasonName(bit uint64) string {
	switch bit {
	case 0x1:
		return "gpu_idle"
	case 0x2:
		return "applications_clocks_setting"
	case 0x4:
		return "sw_power_cap"
	case 0x8:
		return "hw_slowdown"
	case 0x10:
		return "sync_boost"
	case 0x20:
		return "sw_thermal_slowdown"
	case 0x40:
		return "hw_thermal_slowdown"
	case 0x80:
		return "hw_power_brake_slowdown"
	case 0x100:
		return "display_clock_setting"
	}
	return fmt.Sprintf("0x%x", bit)
}
