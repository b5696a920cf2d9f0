package gpu

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// QuerySource reads one long-running `nvidia-smi --query-gpu=… --format=csv,noheader,nounits
// -lms POLL` child and parses its lines as they come. On an H100 machine this cost ~27 ms of
// CPU per sample of 4 GPUs, against ~100 ms and ~130 ms of wall time for a new nvidia-smi per
// sample; lines arrive unbuffered, ~6 ms after nvidia-smi's own timestamp.
type QuerySource struct {
	SMI    SMI
	Fields []string // nil: DefaultQueryFields, less those the driver does not document
	GPUs   []int    // nil: every GPU

	once   sync.Once
	fields []string
}

// Name is "nvidia-smi-query".
func (q *QuerySource) Name() string { return "nvidia-smi-query" }

// resolve picks the fields once: those asked for that this driver's --help-query-gpu knows.
func (q *QuerySource) resolve(ctx context.Context) []string {
	q.once.Do(func() {
		want := q.Fields
		if want == nil {
			want = DefaultQueryFields()
		}
		help, err := q.SMI.Output(ctx, "--help-query-gpu")
		if err != nil {
			q.fields = want
			return
		}
		q.fields, _ = UsableFields(want, ParseHelpQueryGPU(help))
	})
	return q.fields
}

// Run streams readings until ctx is done or the child exits.
func (q *QuerySource) Run(ctx context.Context, poll time.Duration, put func(Reading)) error {
	fields := q.resolve(ctx)
	args := []string{"--query-gpu=" + strings.Join(fields, ","), "--format=csv,noheader,nounits",
		"-lms", strconv.FormatInt(max(poll.Milliseconds(), 1), 10)}
	args = append(args, gpuArgs(q.GPUs)...)
	var lastBad error
	err := q.SMI.Stream(ctx, args, func(line string) {
		r, err := ParseQueryLine(fields, line)
		if err != nil {
			lastBad = err
			return
		}
		r.At = time.Now()
		put(r)
	})
	if err != nil && lastBad != nil {
		return fmt.Errorf("%w (last unreadable line: %v)", err, lastBad)
	}
	return err
}

// DefaultGPMMetrics are the dmon --gpm-metrics asked for: graphics activity, SM activity,
// SM occupancy, tensor activity, DRAM activity, PCIe TX/RX, NVLink RX/TX.
func DefaultGPMMetrics() []int { return []int{1, 2, 3, 5, 10, 20, 21, 60, 61} }

// DmonSource reads `nvidia-smi dmon` (interval in whole seconds, at least 1). Its value over
// query mode is GPM (Hopper and newer): SM activity and occupancy, tensor and DRAM activity,
// NVLink and PCIe throughput, and the power/thermal violation columns. When dmon fails with
// GPM metrics before giving any reading (a GPU without GPM), the next start goes without.
type DmonSource struct {
	SMI    SMI
	Select string // -s; "" is "pucv"
	GPM    []int  // --gpm-metrics; nil is DefaultGPMMetrics, an empty slice none
	GPUs   []int

	noGPM atomic.Bool
}

// Name is "nvidia-smi-dmon".
func (d *DmonSource) Name() string { return "nvidia-smi-dmon" }

func (d *DmonSource) args(poll time.Duration) []string {
	sel := d.Select
	if sel == "" {
		sel = "pucv"
	}
	secs := max(int64((poll+time.Second/2)/time.Second), 1)
	args := []string{"dmon", "-s", sel, "-d", strconv.FormatInt(secs, 10), "--format", "csv"}
	gpm := d.GPM
	if gpm == nil {
		gpm = DefaultGPMMetrics()
	}
	if len(gpm) > 0 && !d.noGPM.Load() {
		args = append(args, "--gpm-metrics", joinInts(gpm))
	}
	return append(args, gpuArgs(d.GPUs)...)
}

// Run streams readings until ctx is done or the child exits.
func (d *DmonSource) Run(ctx context.Context, poll time.Duration, put func(Reading)) error {
	args := d.args(poll)
	var p DmonParser
	got := false
	var lastBad error
	err := d.SMI.Stream(ctx, args, func(line string) {
		r, ok, err := p.ParseLine(line)
		if err != nil {
			lastBad = err
		}
		if ok {
			got = true
			r.At = time.Now()
			put(r)
		}
	})
	if err != nil && !got && strings.Contains(strings.Join(args, " "), "--gpm-metrics") {
		d.noGPM.Store(true)
	}
	if err != nil && lastBad != nil {
		return fmt.Errorf("%w (last unreadable line: %v)", err, lastBad)
	}
	return err
}

func gpuArgs(gpus []int) []string {
	if len(gpus) == 0 {
		return nil
	}
	return []string{"-i", joinInts(gpus)}
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}
