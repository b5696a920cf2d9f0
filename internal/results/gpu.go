package results

// GPUSample is one row of gpu.parquet: one GPU at one instant of the experiment's sampling
// grid (time_unix_ns = grid start + tick·interval, offset_ns from the grid start, so rows join
// with requests.parquet and server_metrics.parquet). Optional columns are null where the
// source did not offer the value (nvidia-smi "[N/A]", a metric only DCGM or dmon's GPM gives,
// a GPM metric in its first two seconds).
//
// Two "utilisations" must not be confused: sm_util_pct is NVML's utilization.gpu, the share of
// time at least one kernel ran (100 % with one busy SM), while sm_active_pct is the share of SMs
// busy (GPM or DCGM_FI_PROF_SM_ACTIVE), which tells how full the GPU really is.
type GPUSample struct {
	TimeUnixNs int64  `parquet:"time_unix_ns"` // the grid instant, wall clock, UTC
	OffsetNs   int64  `parquet:"offset_ns"`    // the grid instant minus the grid start
	Tick       int64  `parquet:"tick"`         // k of the instant start + k·interval
	AgeNs      int64  `parquet:"age_ns"`       // how old the freshest reading merged into the row was
	GPUIndex   int32  `parquet:"gpu_index"`
	GPUUUID    string `parquet:"gpu_uuid,dict"`
	GPUName    string `parquet:"gpu_name,dict"`
	Source     string `parquet:"source,dict"` // nvidia-smi-query, nvidia-smi-dmon, dcgm, fake; joined by '+'

	SMUtilPct         *float64 `parquet:"sm_util_pct,optional"`
	MemBWUtilPct      *float64 `parquet:"mem_bw_util_pct,optional"`
	MemUsedMiB        *float64 `parquet:"mem_used_mib,optional"`
	MemTotalMiB       *float64 `parquet:"mem_total_mib,optional"`
	PowerW            *float64 `parquet:"power_w,optional"`
	PowerInstantW     *float64 `parquet:"power_instant_w,optional"`
	PowerLimitW       *float64 `parquet:"power_limit_w,optional"`
	SMClockMHz        *float64 `parquet:"sm_clock_mhz,optional"`
	MemClockMHz       *float64 `parquet:"mem_clock_mhz,optional"`
	TempC             *float64 `parquet:"temp_c,optional"`
	MemTempC          *float64 `parquet:"mem_temp_c,optional"`
	PState            *int32   `parquet:"pstate,optional"`
	ClockEventReasons *int64   `parquet:"clock_event_reasons,optional"` // NVML bitmask
	// ClockEventReasonNames spells the bitmask out: "sw_power_cap,sw_thermal_slowdown"; "" when none.
	ClockEventReasonNames  string   `parquet:"clock_event_reason_names,dict"`
	ThrottleSWPowerUs      *float64 `parquet:"throttle_sw_power_us,optional"` // cumulative counters
	ThrottleSWThermalUs    *float64 `parquet:"throttle_sw_thermal_us,optional"`
	ThrottleHWThermalUs    *float64 `parquet:"throttle_hw_thermal_us,optional"`
	ThrottleHWPowerBrakeUs *float64 `parquet:"throttle_hw_power_brake_us,optional"`
	PowerViolationPct      *float64 `parquet:"power_violation_pct,optional"`
	ThermalViolation       *float64 `parquet:"thermal_violation,optional"`
	PCIeLinkGen            *int32   `parquet:"pcie_link_gen,optional"`
	PCIeLinkWidth          *int32   `parquet:"pcie_link_width,optional"`
	ECCUncorrected         *int64   `parquet:"ecc_uncorrected,optional"`
	MIGEnabled             *bool    `parquet:"mig_enabled,optional"`
	SMActivePct            *float64 `parquet:"sm_active_pct,optional"`
	SMOccupancyPct         *float64 `parquet:"sm_occupancy_pct,optional"`
	TensorActivePct        *float64 `parquet:"tensor_active_pct,optional"`
	DRAMActivePct          *float64 `parquet:"dram_active_pct,optional"`
	GrEngineActivePct      *float64 `parquet:"gr_engine_active_pct,optional"`
	PCIeTxMiBps            *float64 `parquet:"pcie_tx_mib_per_s,optional"`
	PCIeRxMiBps            *float64 `parquet:"pcie_rx_mib_per_s,optional"`
	NVLinkTxMiBps          *float64 `parquet:"nvlink_tx_mib_per_s,optional"`
	NVLinkRxMiBps          *float64 `parquet:"nvlink_rx_mib_per_s,optional"`
	EnergyJ                *float64 `parquet:"energy_j,optional"` // cumulative
}
