package gpu

import (
	"math"
	"strings"

	"github.com/llmscale/llmscale/internal/results"
)

// Row is the sample as a gpu.parquet row; unavailable metrics become nulls.
func (s Sample) Row() results.GPUSample {
	m := s.Metrics
	r := results.GPUSample{
		TimeUnixNs: s.Time.UnixNano(),
		OffsetNs:   int64(s.Offset),
		Tick:       s.Tick,
		AgeNs:      int64(s.Age),
		GPUIndex:   int32(s.Index),
		GPUUUID:    s.UUID,
		GPUName:    s.Name,
		Source:     s.Source,

		SMUtilPct: f(m, SMUtilPct), MemBWUtilPct: f(m, MemBWUtilPct), MemUsedMiB: f(m, MemUsedMiB),
		MemTotalMiB: f(m, MemTotalMiB), PowerW: f(m, PowerW), PowerInstantW: f(m, PowerInstantW),
		PowerLimitW: f(m, PowerLimitW), SMClockMHz: f(m, SMClockMHz), MemClockMHz: f(m, MemClockMHz),
		TempC: f(m, TempC), MemTempC: f(m, MemTempC), PState: i32(m, PState),
		ThrottleSWPowerUs: f(m, ThrottleSWPowerUs), ThrottleSWThermalUs: f(m, ThrottleSWThermalUs),
		ThrottleHWThermalUs: f(m, ThrottleHWThermalUs), ThrottleHWPowerBrakeUs: f(m, ThrottleHWPowerBrakeUs),
		PowerViolationPct: f(m, PowerViolationPct), ThermalViolation: f(m, ThermalViolation),
		PCIeLinkGen: i32(m, PCIeLinkGen), PCIeLinkWidth: i32(m, PCIeLinkWidth),
		ECCUncorrected: i64(m, ECCUncorrected), SMActivePct: f(m, SMActivePct),
		SMOccupancyPct: f(m, SMOccupancyPct), TensorActivePct: f(m, TensorActivePct),
		DRAMActivePct: f(m, DRAMActivePct), GrEngineActivePct: f(m, GrEngineActivePct),
		PCIeTxMiBps: f(m, PCIeTxMiBps), PCIeRxMiBps: f(m, PCIeRxMiBps),
		NVLinkTxMiBps: f(m, NVLinkTxMiBps), NVLinkRxMiBps: f(m, NVLinkRxMiBps), EnergyJ: f(m, EnergyJ),
	}
	if m.Has(ClockEventReasons) {
		r.ClockEventReasons = i64(m, ClockEventReasons)
		r.ClockEventReasonNames = strings.Join(Reasons(uint64(*r.ClockEventReasons)), ",")
	}
	if m.Has(MIGEnabled) {
		on := m[MIGEnabled] != 0
		r.MIGEnabled = &on
	}
	return r
}

func f(m Metrics, k Metric) *float64 {
	if math.IsNaN(m[k]) {
		return nil
	}
	v := m[k]
	return &v
}

func i32(m Metrics, k Metric) *int32 {
	if math.IsNaN(m[k]) || m[k] < math.MinInt32 || m[k] > math.MaxInt32 {
		return nil
	}
	v := int32(m[k])
	return &v
}

func i64(m Metrics, k Metric) *int64 {
	if math.IsNaN(m[k]) || m[k] < 0 || m[k] >= 1<<63 {
		return nil
	}
	v := int64(m[k])
	return &v
}
