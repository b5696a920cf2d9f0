package gpu

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// dcgmMetric maps a dcgm-exporter metric to the Metric it fills and the factor to its unit.
func dcgmMetric(name string) (Metric, float64, bool) {
	const pct, mib = 100, 1.0 / (1 << 20)
	switch name {
	case "DCGM_FI_DEV_GPU_UTIL":
		return SMUtilPct, 1, true
	case "DCGM_FI_DEV_MEM_COPY_UTIL":
		return MemBWUtilPct, 1, true
	case "DCGM_FI_DEV_FB_USED":
		return MemUsedMiB, 1, true
	case "DCGM_FI_DEV_FB_TOTAL":
		return MemTotalMiB, 1, true
	case "DCGM_FI_DEV_POWER_USAGE":
		return PowerW, 1, true
	case "DCGM_FI_DEV_POWER_USAGE_INSTANT":
		return PowerInstantW, 1, true
	case "DCGM_FI_DEV_POWER_MGMT_LIMIT", "DCGM_FI_DEV_ENFORCED_POWER_LIMIT":
		return PowerLimitW, 1, true
	case "DCGM_FI_DEV_SM_CLOCK":
		return SMClockMHz, 1, true
	case "DCGM_FI_DEV_MEM_CLOCK":
		return MemClockMHz, 1, true
	case "DCGM_FI_DEV_GPU_TEMP":
		return TempC, 1, true
	case "DCGM_FI_DEV_MEMORY_TEMP":
		return MemTempC, 1, true
	case "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION": // mJ
		return EnergyJ, 1e-3, true
	case "DCGM_FI_DEV_CLOCK_THROTTLE_REASONS", "DCGM_FI_DEV_CLOCKS_EVENT_REASONS":
		return ClockEventReasons, 1, true
	case "DCGM_FI_DEV_POWER_VIOLATION": // µs
		return ThrottleSWPowerUs, 1, true
	case "DCGM_FI_DEV_THERMAL_VIOLATION": // µs
		return ThrottleSWThermalUs, 1, true
	case "DCGM_FI_DEV_PCIE_LINK_GEN":
		return PCIeLinkGen, 1, true
	case "DCGM_FI_DEV_PCIE_LINK_WIDTH":
		return PCIeLinkWidth, 1, true
	case "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL":
		return ECCUncorrected, 1, true
	case "DCGM_FI_PROF_SM_ACTIVE": // ratios 0…1
		return SMActivePct, pct, true
	case "DCGM_FI_PROF_SM_OCCUPANCY":
		return SMOccupancyPct, pct, true
	case "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE":
		return TensorActivePct, pct, true
	case "DCGM_FI_PROF_DRAM_ACTIVE":
		return DRAMActivePct, pct, true
	case "DCGM_FI_PROF_GR_ENGINE_ACTIVE":
		return GrEngineActivePct, pct, true
	case "DCGM_FI_PROF_PCIE_TX_BYTES": // bytes/s
		return PCIeTxMiBps, mib, true
	case "DCGM_FI_PROF_PCIE_RX_BYTES":
		return PCIeRxMiBps, mib, true
	case "DCGM_FI_PROF_NVLINK_TX_BYTES":
		return NVLinkTxMiBps, mib, true
	case "DCGM_FI_PROF_NVLINK_RX_BYTES":
		return NVLinkRxMiBps, mib, true
	}
	return 0, 0, false
}

// dcgmBlank reports DCGM's "no value" sentinels (DCGM_INT32_BLANK, DCGM_INT64_BLANK and
// DCGM_FP64_BLANK, and the values just above them), which the exporter prints as numbers.
func dcgmBlank(v float64) bool {
	return math.IsNaN(v) || math.IsInf(v, 0) || v >= 140737488355328.0 || (v >= 2147483632 && v < 2147483648)
}

// ParseDCGM parses a dcgm-exporter /metrics page (Prometheus text) into one Reading per GPU,
// by GPU index (label "gpu"), ordered by index. UUID and modelName labels give the GPU's
// identity. Series of MIG instances (a GPU_I_ID label) are skipped: readings are per GPU.
// FB_TOTAL is FB_USED + FB_FREE (+ FB_RESERVED) when the exporter does not give it.
func ParseDCGM(data []byte) ([]Reading, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("dcgm metrics: %w", err)
	}
	byGPU := map[int]*Reading{}
	var memParts = map[int]float64{}
	for name, fam := range fams {
		for _, m := range fam.GetMetric() {
			r, ok := dcgmGPU(byGPU, m)
			if !ok {
				continue
			}
			v := sampleValue(m)
			if dcgmBlank(v) {
				continue
			}
			if name == "DCGM_FI_DEV_FB_FREE" || name == "DCGM_FI_DEV_FB_USED" || name == "DCGM_FI_DEV_FB_RESERVED" {
				memParts[r.Index] += v
			}
			if k, scale, ok := dcgmMetric(name); ok {
				r.Metrics[k] = v * scale
			}
		}
	}
	return dcgmReadings(byGPU, memParts), nil
}

func dcgmReadings(byGPU map[int]*Reading, memParts map[int]float64) []Reading {
	out := make([]Reading, 0, len(byGPU))
	for i, r := range byGPU {
		if !r.Metrics.Has(MemTotalMiB) && memParts[i] > 0 && r.Metrics.Has(MemUsedMiB) {
			r.Metrics[MemTotalMiB] = memParts[i]
		}
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b Reading) int { return a.Index - b.Index })
	return out
}

// dcgmGPU finds (or starts) the Reading of the GPU a series belongs to.
func dcgmGPU(byGPU map[int]*Reading, m *dto.Metric) (*Reading, bool) {
	labels := map[string]string{}
	for _, l := range m.GetLabel() {
		labels[l.GetName()] = l.GetValue()
	}
	if labels["GPU_I_ID"] != "" {
		return nil, false
	}
	idx, err := strconv.Atoi(labels["gpu"])
	if err != nil || idx < 0 {
		return nil, false
	}
	r := byGPU[idx]
	if r == nil {
		r = &Reading{Index: idx, Metrics: NoMetrics()}
		byGPU[idx] = r
	}
	if u := labels["UUID"]; u != "" {
		r.UUID = u
	}
	if n := labels["modelName"]; n != "" {
		r.Name = n
	}
	return r, true
}

func sampleValue(m *dto.Metric) float64 {
	switch {
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Untyped != nil:
		return m.GetUntyped().GetValue()
	}
	return math.NaN()
}

// DCGMSource scrapes a dcgm-exporter (default port 9400) every poll. The exporter samples on
// its own interval (DCGM_EXPORTER_INTERVAL, 30 s by default: set it near the grid interval).
type DCGMSource struct {
	URL    string       // e.g. http://localhost:9400/metrics
	Client *http.Client // nil: a client with a 5 s timeout
}

// Name is "dcgm".
func (d *DCGMSource) Name() string { return "dcgm" }

// Run scrapes until ctx is done; the first failed scrape ends it with the error.
func (d *DCGMSource) Run(ctx context.Context, poll time.Duration, put func(Reading)) error {
	client := d.Client
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Second}
	}
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		if err := d.scrape(ctx, client, put); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func (d *DCGMSource) scrape(ctx context.Context, client *http.Client, put func(Reading)) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.URL, nil)
	if err != nil {
		return fmt.Errorf("dcgm %s: %w", d.URL, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("dcgm %s: %w", d.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("dcgm %s: %w", d.URL, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("dcgm %s: HTTP %s", d.URL, resp.Status)
	}
	rs, err := ParseDCGM(body)
	if err != nil {
		return fmt.Errorf("dcgm %s: %w", d.URL, err)
	}
	now := time.Now()
	for _, r := range rs {
		r.At = now
		put(r)
	}
	return nil
}
