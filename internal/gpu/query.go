package gpu

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// DefaultQueryFields are the nvidia-smi --query-gpu fields the query sampler asks for, when
// the driver knows them (see ParseHelpQueryGPU). "name" is last on purpose: nvidia-smi does
// not quote CSV values, so a name with a comma only survives as the last column.
func DefaultQueryFields() []string {
	return []string{
		"index", "uuid", "utilization.gpu", "utilization.memory", "memory.used", "memory.total",
		"power.draw", "power.draw.instant", "enforced.power.limit", "clocks.sm", "clocks.mem",
		"temperature.gpu", "temperature.memory", "pstate", "clocks_event_reasons.active",
		"clocks_event_reasons_counters.sw_power_cap", "clocks_event_reasons_counters.sw_thermal_slowdown",
		"clocks_event_reasons_counters.hw_thermal_slowdown",
		"clocks_event_reasons_counters.hw_power_brake_slowdown",
		"pcie.link.gen.current", "pcie.link.width.current", "ecc.errors.uncorrected.volatile.total",
		"mig.mode.current", "name",
	}
}

// queryMetric maps an nvidia-smi --query-gpu field, as asked or as the CSV header names it
// (without its "[unit]"), to the Metric it fills.
func queryMetric(field string) (Metric, bool) {
	switch field {
	case "utilization.gpu":
		return SMUtilPct, true
	case "utilization.memory":
		return MemBWUtilPct, true
	case "memory.used":
		return MemUsedMiB, true
	case "memory.total":
		return MemTotalMiB, true
	case "power.draw":
		return PowerW, true
	case "power.draw.instant", "gpu.power.draw.instant":
		return PowerInstantW, true
	case "enforced.power.limit":
		return PowerLimitW, true
	case "clocks.sm", "clocks.current.sm":
		return SMClockMHz, true
	case "clocks.mem", "clocks.current.memory":
		return MemClockMHz, true
	case "temperature.gpu":
		return TempC, true
	case "temperature.memory":
		return MemTempC, true
	case "pstate":
		return PState, true
	case "clocks_event_reasons.active", "clocks_throttle_reasons.active":
		return ClockEventReasons, true
	}
	return queryMetric2(field)
}

func queryMetric2(field string) (Metric, bool) {
	switch field {
	case "clocks_event_reasons_counters.sw_power_cap":
		return ThrottleSWPowerUs, true
	case "clocks_event_reasons_counters.sw_thermal_slowdown":
		return ThrottleSWThermalUs, true
	case "clocks_event_reasons_counters.hw_thermal_slowdown":
		return ThrottleHWThermalUs, true
	case "clocks_event_reasons_counters.hw_power_brake_slowdown":
		return ThrottleHWPowerBrakeUs, true
	case "pcie.link.gen.current", "pcie.link.gen.gpucurrent":
		return PCIeLinkGen, true
	case "pcie.link.width.current":
		return PCIeLinkWidth, true
	case "ecc.errors.uncorrected.volatile.total":
		return ECCUncorrected, true
	case "mig.mode.current":
		return MIGEnabled, true
	}
	return 0, false
}

// ParseQueryLine parses one line of `nvidia-smi --query-gpu=FIELDS --format=csv,noheader`
// (with or without nounits) into a Reading. fields are the names asked for, in order; fields
// this package has no Metric for are skipped. Values nvidia-smi cannot give ("[N/A]",
// "[Not Supported]", "[Unknown Error]", …) become NaN. The line must have one value per
// field, except that a last "name" field takes whatever commas remain.
func ParseQueryLine(fields []string, line string) (Reading, error) {
	r := Reading{Index: -1, Metrics: NoMetrics()}
	vals, err := splitQuery(fields, line)
	if err != nil {
		return r, err
	}
	for i, f := range fields {
		if err := r.set(f, vals[i]); err != nil {
			return r, fmt.Errorf("field %s: %w", f, err)
		}
	}
	if r.Index < 0 {
		return r, errors.New("no GPU index in the line (ask for the index field)")
	}
	return r, nil
}

func splitQuery(fields []string, line string) ([]string, error) {
	line = strings.TrimRight(line, "\r\n")
	if len(fields) == 0 {
		return nil, errors.New("no fields")
	}
	n := len(fields)
	if fields[n-1] != "name" {
		n = -1
	}
	vals := strings.SplitN(line, ",", n)
	if len(vals) != len(fields) {
		return nil, fmt.Errorf("got %d values for %d fields in %q", len(vals), len(fields), clip(line))
	}
	for i := range vals {
		vals[i] = strings.TrimSpace(vals[i])
	}
	return vals, nil
}

func (r *Reading) set(field, v string) error {
	switch field {
	case "index":
		i, err := strconv.Atoi(v)
		if err != nil || i < 0 {
			return fmt.Errorf("bad GPU index %q", clip(v))
		}
		r.Index = i
	case "uuid", "gpu_uuid":
		r.UUID = v
	case "name", "gpu_name":
		r.Name = v
	default:
		m, ok := queryMetric(field)
		if !ok {
			return nil
		}
		x, err := parseValue(v)
		if err != nil {
			return err
		}
		r.Metrics[m] = x
	}
	return nil
}

// parseValue reads one nvidia-smi value: a number with or without its unit ("83.81 W",
// "0 %", "9842414 us"), a hex mask ("0x0000000000000004"), a P-state ("P0"), a state word
// ("Enabled", "Not Active", "Yes"), or a marker of no value ("[N/A]", "N/A", "[Not
// Supported]", "") which gives NaN.
func parseValue(v string) (float64, error) {
	v = strings.TrimSpace(v)
	if v == "" || v == "N/A" || v == "-" || strings.HasPrefix(v, "[") {
		return math.NaN(), nil
	}
	if x, ok := stateWord(v); ok {
		return x, nil
	}
	if len(v) > 2 && (v[:2] == "0x" || v[:2] == "0X") {
		u, err := strconv.ParseUint(v[2:], 16, 64)
		if err != nil {
			return 0, fmt.Errorf("bad hex value %q", clip(v))
		}
		return float64(u), nil
	}
	if len(v) > 1 && v[0] == 'P' {
		if p, err := strconv.Atoi(v[1:]); err == nil && p >= 0 {
			return float64(p), nil
		}
	}
	if num, unit, ok := strings.Cut(v, " "); ok && isUnit(unit) {
		v = num
	}
	x, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsInf(x, 0) {
		return 0, fmt.Errorf("bad value %q", clip(v))
	}
	return x, nil
}

func stateWord(v string) (float64, bool) {
	switch strings.ToLower(v) {
	case "enabled", "active", "yes", "on":
		return 1, true
	case "disabled", "not active", "no", "off":
		return 0, true
	}
	return 0, false
}

func isUnit(u string) bool {
	switch strings.TrimSpace(u) {
	case "%", "MiB", "MB", "GiB", "W", "MHz", "C", "us", "ms", "s", "KiB", "KB/s", "MB/s":
		return true
	}
	return false
}

// ParseQuery parses the lines of `nvidia-smi --query-gpu=FIELDS --format=csv,noheader[,nounits]`
// output (one line per GPU per sample). It returns the readings of the good lines, and an
// error naming every bad one (a line nvidia-smi printed instead of values, say).
func ParseQuery(fields []string, data []byte) ([]Reading, error) {
	var out []Reading
	var errs []error
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		r, err := ParseQueryLine(fields, line)
		if err != nil {
			errs = append(errs, fmt.Errorf("line %d: %w", n, err))
			continue
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, err)
	}
	return out, errors.Join(errs...)
}

// ParseQueryCSV parses `nvidia-smi --query-gpu=FIELDS --format=csv` output, whose first line
// names the fields with their units ("utilization.gpu [%]", "clocks.current.sm [MHz]").
func ParseQueryCSV(data []byte) ([]Reading, error) {
	head, rest, _ := bytes.Cut(data, []byte("\n"))
	fields := ParseQueryHeader(string(head))
	if len(fields) == 0 {
		return nil, errors.New("no header line")
	}
	return ParseQuery(fields, rest)
}

// ParseQueryHeader reads the field names of a --format=csv header line, without units.
func ParseQueryHeader(line string) []string {
	line = strings.TrimSpace(line)
	if line == "" {
		return nil
	}
	var fields []string
	for f := range strings.SplitSeq(line, ",") {
		f = strings.TrimSpace(f)
		if i := strings.Index(f, " ["); i >= 0 {
			f = f[:i]
		}
		fields = append(fields, f)
	}
	return fields
}

// ParseHelpQueryGPU lists the field names `nvidia-smi --help-query-gpu` documents (each
// documented field starts a line with its quoted name, aliases after "or").
func ParseHelpQueryGPU(data []byte) map[string]bool {
	valid := map[string]bool{}
	for line := range strings.SplitSeq(string(data), "\n") {
		if !strings.HasPrefix(line, `"`) {
			continue
		}
		parts := strings.Split(line, `"`)
		for i := 1; i < len(parts); i += 2 {
			if isFieldName(parts[i]) {
				valid[parts[i]] = true
			}
		}
	}
	return valid
}

func isFieldName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c == '.' || c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// UsableFields keeps the wanted fields the driver documents, in order; for a field it lacks,
// an older alias is used where one exists (clocks_throttle_reasons.* for
// clocks_event_reasons.*). "index" is always kept. An empty valid set keeps everything.
func UsableFields(want []string, valid map[string]bool) (use, dropped []string) {
	if len(valid) == 0 {
		return want, nil
	}
	for _, f := range want {
		switch {
		case valid[f] || f == "index":
			use = append(use, f)
		case strings.HasPrefix(f, "clocks_event_reasons.") &&
			valid["clocks_throttle_reasons."+strings.TrimPrefix(f, "clocks_event_reasons.")]:
			use = append(use, "clocks_throttle_reasons."+strings.TrimPrefix(f, "clocks_event_reasons."))
		default:
			dropped = append(dropped, f)
		}
	}
	return use, dropped
}

func clip(s string) string {
	const limit = 120
	if len(s) > limit {
		return s[:limit] + "…"
	}
	return s
}
