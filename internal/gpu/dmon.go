package gpu

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// dmonMetric maps a column of `nvidia-smi dmon` (its -s groups and its --gpm-metrics) to the
// Metric it fills. dmon's "MB" columns are MiB (fb matches query mode's memory.used).
func dmonMetric(col string) (Metric, bool) {
	switch col {
	case "pwr":
		return PowerW, true
	case "gtemp":
		return TempC, true
	case "mtemp":
		return MemTempC, true
	case "sm":
		return SMUtilPct, true
	case "mem":
		return MemBWUtilPct, true
	case "mclk":
		return MemClockMHz, true
	case "pclk":
		return SMClockMHz, true
	case "pviol":
		return PowerViolationPct, true
	case "tviol":
		return ThermalViolation, true
	case "fb":
		return MemUsedMiB, true
	case "rxpci", "pcirx":
		return PCIeRxMiBps, true
	case "txpci", "pcitx":
		return PCIeTxMiBps, true
	}
	return dmonGPMMetric(col)
}

// dmonGPMMetric maps the columns of dmon --gpm-metrics (GPM, Hopper and newer).
func dmonGPMMetric(col string) (Metric, bool) {
	switch col {
	case "gract":
		return GrEngineActivePct, true
	case "smutil":
		return SMActivePct, true
	case "smocc":
		return SMOccupancyPct, true
	case "mmaact":
		return TensorActivePct, true
	case "dram":
		return DRAMActivePct, true
	case "nvlrx":
		return NVLinkRxMiBps, true
	case "nvltx":
		return NVLinkTxMiBps, true
	}
	return 0, false
}

// DmonParser reads `nvidia-smi dmon` output line by line, in its plain or CSV format, with
// or without -o D/T columns. Header lines ("# gpu pwr …", "#Date Time gpu …") set the
// columns; the units line after them is skipped; a value of "-" (GPM metrics not yet
// measured) is NaN. The zero value is ready; headers may repeat.
type DmonParser struct {
	cols []string
}

// ParseLine parses one line. ok is false for header, units and blank lines.
func (p *DmonParser) ParseLine(line string) (r Reading, ok bool, err error) {
	line = strings.TrimSpace(line)
	if line == "" {
		return r, false, nil
	}
	if strings.HasPrefix(line, "#") {
		cols := dmonFields(strings.TrimPrefix(line, "#"))
		if len(cols) > 0 && containsString(cols, "gpu") {
			p.cols = cols
		}
		return r, false, nil
	}
	if p.cols == nil {
		return r, false, fmt.Errorf("dmon data before its header: %q", clip(line))
	}
	vals := dmonFields(line)
	if len(vals) != len(p.cols) {
		return r, false, fmt.Errorf("dmon: got %d values for %d columns in %q", len(vals), len(p.cols), clip(line))
	}
	r, err = p.reading(vals)
	return r, err == nil, err
}

func (p *DmonParser) reading(vals []string) (Reading, error) {
	r := Reading{Index: -1, Metrics: NoMetrics()}
	for i, c := range p.cols {
		if c == "gpu" {
			idx, err := strconv.Atoi(vals[i])
			if err != nil || idx < 0 {
				return r, fmt.Errorf("dmon: bad GPU index %q", clip(vals[i]))
			}
			r.Index = idx
			continue
		}
		m, ok := dmonMetric(c)
		if !ok {
			continue
		}
		x, err := parseValue(vals[i])
		if err != nil {
			return r, fmt.Errorf("dmon column %s: %w", c, err)
		}
		r.Metrics[m] = x
	}
	return r, nil
}

// dmonFields splits a dmon line: on commas in CSV format, else on blanks.
func dmonFields(s string) []string {
	if !strings.Contains(s, ",") {
		return strings.Fields(s)
	}
	parts := strings.Split(strings.TrimSpace(s), ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	if n := len(parts); n > 1 && parts[n-1] == "" { // a trailing separator
		parts = parts[:n-1]
	}
	return parts
}

func containsString(xs []string, x string) bool {
	for _, s := range xs {
		if s == x {
			return true
		}
	}
	return false
}

// ParseDmon parses a whole `nvidia-smi dmon` capture: the readings of every data line, and an
// error naming each bad line.
func ParseDmon(data []byte) ([]Reading, error) {
	var p DmonParser
	var out []Reading
	var errs []error
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		r, ok, err := p.ParseLine(sc.Text())
		if err != nil {
			errs = append(errs, fmt.Errorf("line %d: %w", n, err))
		}
		if ok {
			out = append(out, r)
		}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, err)
	}
	return out, errors.Join(errs...)
}
