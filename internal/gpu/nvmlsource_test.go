package gpu

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// These tests run in every build (no cgo): the NVML source over a fake library whose
// values are what go-nvml returned on the H100 machine (docs/gpu.md), in NVML's units.

type fakeNVMLDevice struct {
	mu       sync.Mutex
	index    int
	fail     error // every call fails with it (a lost GPU)
	unsup    map[string]bool
	gpm      bool
	samples  int // GPMSample calls
	slots    [2]int
	pstate   int
	closed   bool
	gpmCalls int
	eccCalls int
}

func newFakeNVMLDevice(index int) *fakeNVMLDevice {
	return &fakeNVMLDevice{index: index, gpm: true, unsup: map[string]bool{}}
}

func (d *fakeNVMLDevice) err(name string) error {
	if d.fail != nil {
		return d.fail
	}
	if d.unsup[name] {
		return errNVMLUnsupported
	}
	return nil
}

func (d *fakeNVMLDevice) UUID() (string, error) {
	return "GPU-fake-" + string(rune('0'+d.index)), d.err("uuid")
}
func (d *fakeNVMLDevice) Name() (string, error) { return "NVIDIA H100 80GB HBM3", d.err("name") }
func (d *fakeNVMLDevice) Utilization() (uint32, uint32, error) {
	return 99, 24, d.err("util")
}
func (d *fakeNVMLDevice) Memory() (uint64, uint64, error) {
	return 76_000 << 20, 85_520_809_984, d.err("memory")
}
func (d *fakeNVMLDevice) Power() (uint32, error)          { return 698_123, d.err("power") }
func (d *fakeNVMLDevice) PowerLimit() (uint32, error)     { return 700_000, d.err("limit") }
func (d *fakeNVMLDevice) Clocks() (uint32, uint32, error) { return 1365, 2619, d.err("clocks") }
func (d *fakeNVMLDevice) Temperature() (uint32, error)    { return 81, d.err("temp") }
func (d *fakeNVMLDevice) PState() (int, error)            { return d.pstate, d.err("pstate") }
func (d *fakeNVMLDevice) ClockEventReasons() (uint64, error) {
	return 0x4, d.err("reasons")
}
func (d *fakeNVMLDevice) PCIeLink() (int, int, error) { return 5, 16, d.err("pcie") }
func (d *fakeNVMLDevice) ECCUncorrected() (uint64, error) {
	d.eccCalls++
	return 0, d.err("ecc")
}
func (d *fakeNVMLDevice) MIGMode() (int, error) { return 0, d.err("mig") }

func (d *fakeNVMLDevice) Fields(ids []uint32) ([]nvmlField, error) {
	if err := d.err("fields"); err != nil {
		return nil, err
	}
	vals := map[uint32]nvmlField{
		nvmlFIPowerInstant:      field(1, 712_345),
		nvmlFIMemoryTemp:        field(1, 70),
		nvmlFITotalEnergy:       field(3, 123_456_789),
		nvmlFIPerfPolicyPower:   field(3, 9_842_414_000),
		nvmlFIEventSWThermal:    {Ret: 3}, // not supported
		nvmlFIEventHWThermal:    field(3, 0),
		nvmlFIEventHWPowerBrake: field(3, 0),
	}
	out := make([]nvmlField, len(ids))
	for i, id := range ids {
		out[i] = vals[id]
		out[i].ID = id
	}
	return out, nil
}

func field(typ uint32, v uint64) nvmlField {
	f := nvmlField{Type: typ}
	binary.LittleEndian.PutUint64(f.Raw[:], v)
	return f
}

func (d *fakeNVMLDevice) GPMSupported() bool { return d.gpm }

func (d *fakeNVMLDevice) GPMSample(slot int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.gpm {
		return errNVMLUnsupported
	}
	d.samples++
	d.slots[slot] = d.samples
	return nil
}

// GPMMetrics gives SM activity = 10 × the number of the later sample, so tests see which
// pair was used; tensor activity fails (Ret 3); the rest are fixed.
func (d *fakeNVMLDevice) GPMMetrics(from, to int, ids []uint32) ([]nvmlGPMValue, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.gpmCalls++
	if d.slots[from] >= d.slots[to] {
		return nil, errors.New("samples out of order")
	}
	out := make([]nvmlGPMValue, len(ids))
	for i, id := range ids {
		out[i] = nvmlGPMValue{ID: id, Value: float64(id)}
		switch id {
		case 2:
			out[i].Value = 10 * float64(d.slots[to])
		case 5:
			out[i].Ret = 3
		case 61:
			out[i].Value = 384_033
		}
	}
	return out, nil
}

func (d *fakeNVMLDevice) Close() { d.closed = true }

type fakeNVMLLib struct {
	devs     []*fakeNVMLDevice
	countErr error
	shutdown int
}

func (l *fakeNVMLLib) DeviceCount() (int, error) { return len(l.devs), l.countErr }
func (l *fakeNVMLLib) Device(i int) (nvmlDevice, error) {
	if i >= len(l.devs) {
		return nil, errors.New("nvml: Invalid Argument")
	}
	return l.devs[i], nil
}
func (l *fakeNVMLLib) Shutdown() error          { l.shutdown++; return nil }
func (l *fakeNVMLLib) ThreadCPU() time.Duration { return 0 }

func fakeNVML(n int) *fakeNVMLLib {
	l := &fakeNVMLLib{}
	for i := range n {
		l.devs = append(l.devs, newFakeNVMLDevice(i))
	}
	return l
}

func (l *fakeNVMLLib) open() (nvmlLib, error) { return l, nil }

func TestNVMLReadMapsUnits(t *testing.T) {
	t.Parallel()
	d := newFakeNVMLDevice(1)
	g := &nvmlGPU{index: 1, uuid: "GPU-x", name: "H100", dev: d, gpm: gpmPair{ok: true, last: -1}}
	t0 := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	var costs nvmlCosts
	r, err := g.read(t0, &costs)
	if err != nil {
		t.Fatal(err)
	}
	if r.Index != 1 || r.UUID != "GPU-x" || r.Name != "H100" {
		t.Errorf("identity %d %q %q", r.Index, r.UUID, r.Name)
	}
	want := map[Metric]float64{
		SMUtilPct: 99, MemBWUtilPct: 24, MemUsedMiB: 76_000, MemTotalMiB: 81_559, PowerW: 698.123,
		PowerLimitW: 700, SMClockMHz: 1365, MemClockMHz: 2619, TempC: 81, PState: 0,
		ClockEventReasons: 4, PCIeLinkGen: 5, PCIeLinkWidth: 16, ECCUncorrected: 0, MIGEnabled: 0,
		PowerInstantW: 712.345, MemTempC: 70, EnergyJ: 123_456.789, ThrottleSWPowerUs: 9_842_414,
		ThrottleHWThermalUs: 0, ThrottleHWPowerBrakeUs: 0,
	}
	for k := range numMetrics {
		w, ok := want[k]
		switch {
		case ok && math.Abs(r.Metrics[k]-w) > 1e-9:
			t.Errorf("%s = %v, want %v", k, r.Metrics[k], w)
		case !ok && r.Metrics.Has(k):
			t.Errorf("%s = %v, want NaN (first read: no GPM yet; sw thermal unsupported)", k, r.Metrics[k])
		}
	}
	r2, _ := g.read(t0.Add(125*time.Millisecond), &costs)
	gpm := map[Metric]float64{
		GrEngineActivePct: 1, SMActivePct: 20, SMOccupancyPct: 3, DRAMActivePct: 10,
		PCIeTxMiBps: 20, PCIeRxMiBps: 21, NVLinkRxMiBps: 60, NVLinkTxMiBps: 384_033,
	}
	for k, w := range gpm {
		if r2.Metrics[k] != w {
			t.Errorf("second read %s = %v, want %v", k, r2.Metrics[k], w)
		}
	}
	if r2.Metrics.Has(TensorActivePct) {
		t.Errorf("tensor activity failed in GPM but read %v", r2.Metrics[TensorActivePct])
	}
	// The seldom-changing values were read once and carried; the others twice.
	if r2.Metrics[PowerLimitW] != 700 || r2.Metrics[EnergyJ] != 123_456.789 || d.eccCalls != 1 {
		t.Errorf("carried: limit %v, energy %v after %d ECC reads", r2.Metrics[PowerLimitW], r2.Metrics[EnergyJ], d.eccCalls)
	}
	if costs[callUtilization].n != 2 || costs[callECC].n != 1 || costs[callFields].n != 1 || costs[callGPM].n != 2 {
		t.Errorf("call counts %+v", costs)
	}
	g.read(t0.Add(nvmlSlowEvery), &costs)
	if d.eccCalls != 2 {
		t.Errorf("%d ECC reads after %v, want 2", d.eccCalls, nvmlSlowEvery)
	}
}

// TestNVMLGPMInterval: GPM pairs are at least 100 ms apart; reads in between reuse the last
// metrics; a GPU without GPM is never asked again.
func TestNVMLGPMInterval(t *testing.T) {
	t.Parallel()
	d := newFakeNVMLDevice(0)
	p := gpmPair{ok: true, last: -1}
	t0 := time.Unix(1000, 0)
	sm := func(at time.Duration) float64 {
		m := NoMetrics()
		p.step(d, t0.Add(at), &m)
		return m[SMActivePct]
	}
	if v := sm(0); !math.IsNaN(v) {
		t.Errorf("first step: %v, want NaN", v)
	}
	if v := sm(50 * time.Millisecond); !math.IsNaN(v) || d.samples != 1 {
		t.Errorf("50 ms later: %v after %d samples, want NaN after 1", v, d.samples)
	}
	if v := sm(120 * time.Millisecond); v != 20 {
		t.Errorf("120 ms: %v, want 20 (samples 1→2)", v)
	}
	if v := sm(180 * time.Millisecond); v != 20 || d.samples != 2 {
		t.Errorf("180 ms: %v after %d samples, want the last metrics (20) after 2", v, d.samples)
	}
	if v := sm(230 * time.Millisecond); v != 30 {
		t.Errorf("230 ms: %v, want 30 (samples 2→3)", v)
	}
	d.gpm = false
	for range 3 {
		if v := sm(time.Second); !math.IsNaN(v) {
			t.Errorf("without GPM: %v", v)
		}
	}
	if p.ok || d.gpmCalls != 2 {
		t.Errorf("ok %v, %d GPMMetrics calls; want GPM dropped after 2", p.ok, d.gpmCalls)
	}
}

func TestNVMLReadErrors(t *testing.T) {
	t.Parallel()
	lost := errors.New("GPU is lost (return 15)")
	cases := []struct {
		name    string
		set     func(d *fakeNVMLDevice)
		wantErr bool
		nan     []Metric
	}{
		{"unsupported values are NaN", func(d *fakeNVMLDevice) {
			d.unsup["power"], d.unsup["mig"], d.unsup["fields"] = true, true, true
		}, false, []Metric{PowerW, MIGEnabled, PowerInstantW, EnergyJ}},
		{"unknown P-state", func(d *fakeNVMLDevice) { d.pstate = 32 }, false, []Metric{PState}},
		{"one failure among values", func(d *fakeNVMLDevice) { d.unsup["temp"] = true }, false, []Metric{TempC}},
		{"lost GPU", func(d *fakeNVMLDevice) { d.fail = lost }, true, nil},
		{"nothing supported", func(d *fakeNVMLDevice) { d.fail = errNVMLUnsupported; d.gpm = false }, false, []Metric{SMUtilPct}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := newFakeNVMLDevice(0)
			c.set(d)
			g := &nvmlGPU{dev: d, gpm: gpmPair{ok: d.gpm, last: -1}}
			r, err := g.read(time.Now(), &nvmlCosts{})
			if (err != nil) != c.wantErr {
				t.Fatalf("err %v, want error %v", err, c.wantErr)
			}
			if c.wantErr && !errors.Is(err, lost) {
				t.Errorf("err %v does not wrap the NVML error", err)
			}
			for _, k := range c.nan {
				if r.Metrics.Has(k) {
					t.Errorf("%s = %v, want NaN", k, r.Metrics[k])
				}
			}
		})
	}
}

func TestNVMLFieldValue(t *testing.T) {
	t.Parallel()
	f64 := func(x float64) nvmlField {
		f := nvmlField{Type: 0}
		binary.LittleEndian.PutUint64(f.Raw[:], math.Float64bits(x))
		return f
	}
	neg := func(typ uint32, v int64) nvmlField { return field(typ, uint64(v)) }
	cases := []struct {
		name string
		f    nvmlField
		want float64
		ok   bool
	}{
		{"double", f64(2.5), 2.5, true},
		{"double NaN", f64(math.NaN()), 0, false},
		{"unsigned int", field(1, 700_000), 700_000, true},
		{"unsigned int ignores high bytes", field(1, 1<<32|7), 7, true},
		{"unsigned long", field(2, 1<<40), 1 << 40, true},
		{"unsigned long long", field(3, 9_842_414_000), 9_842_414_000, true},
		{"signed long long", neg(4, -5), -5, true},
		{"signed int", neg(5, -3), -3, true},
		{"unsigned short", field(6, 0x1_0002), 2, true},
		{"unknown type", field(7, 1), 0, false},
		{"failed", nvmlField{Type: 1, Ret: 3}, 0, false},
	}
	for _, c := range cases {
		got, ok := fieldValue(c.f)
		if ok != c.ok || ok && got != c.want {
			t.Errorf("%s: %v, %v; want %v, %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

func TestNewNVMLSource(t *testing.T) {
	t.Parallel()
	if !NVMLAvailable() {
		if _, err := NewNVMLSource(nil); !errors.Is(err, ErrNoNVML) {
			t.Errorf("without NVML: %v, want ErrNoNVML", err)
		}
	}
	l := fakeNVML(2)
	if _, err := newNVMLSource(l.open, []int{0, 2}); err == nil || !strings.Contains(err.Error(), "no GPU 2") {
		t.Errorf("GPU 2 of 2: %v", err)
	}
	if _, err := newNVMLSource(fakeNVML(0).open, nil); err == nil {
		t.Error("no GPUs: no error")
	}
	broken := errors.New("nvml init: Driver Not Loaded")
	if _, err := newNVMLSource(func() (nvmlLib, error) { return nil, broken }, nil); !errors.Is(err, broken) {
		t.Errorf("init failure: %v", err)
	}
	s, err := newNVMLSource(l.open, []int{1})
	if err != nil || s.Name() != "nvml" {
		t.Fatalf("%v, %v", s, err)
	}
	if l.shutdown != 2 {
		t.Errorf("%d shutdowns after 2 opens", l.shutdown)
	}
}

// TestNVMLSourceOnGrid: the sampler runs the NVML source on the grid, which reads just before
// every instant, so ticks carry readings 1 ms old (a read takes no time in the bubble), GPM
// from the second read on.
func TestNVMLSourceOnGrid(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := fakeNVML(4)
		src, err := newNVMLSource(l.open, []int{1, 3})
		if err != nil {
			t.Fatal(err)
		}
		grid := Grid{Start: time.Now().Add(time.Second), Interval: 250 * time.Millisecond}
		ticks, err := collect(t, NewSampler(SamplerOptions{}, src), grid, 2*time.Second+100*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if len(ticks) != 5 {
			t.Fatalf("%d ticks in the first 1.1 s of a 250 ms grid, want 5", len(ticks))
		}
		for _, tk := range ticks {
			if len(tk.Samples) != 2 || tk.Samples[0].Index != 1 || tk.Samples[1].Index != 3 {
				t.Fatalf("tick %d: %+v", tk.K, tk.Samples)
			}
			for _, s := range tk.Samples {
				if s.Age != time.Millisecond || s.Source != "nvml" || s.UUID != "GPU-fake-"+string(rune('0'+s.Index)) {
					t.Errorf("tick %d GPU %d: age %v, source %q, uuid %q", tk.K, s.Index, s.Age, s.Source, s.UUID)
				}
				if !s.Metrics.Has(SMActivePct) || s.Metrics[PowerW] != 698.123 {
					t.Errorf("tick %d GPU %d: sm_active %v, power %v", tk.K, s.Index, s.Metrics[SMActivePct], s.Metrics[PowerW])
				}
			}
		}
		st := src.Stats()
		if st.Polls != 6 || st.Readings != 12 {
			t.Errorf("stats %+v, want 6 polls (start + 5 instants), 12 readings", st)
		}
		calls := map[string]int64{}
		for _, c := range st.Calls {
			calls[c.Name] = c.Count
		}
		// Polls at 0 (the start) and 1 ms before 1, 1.25, 1.5, 1.75 and 2 s: the seldom-changing
		// values at 0 and 1.249 s.
		if calls["utilization"] != 12 || calls["gpm"] != 12 || calls["ecc"] != 4 || calls["fields"] != 4 {
			t.Errorf("calls %v", calls)
		}
		if !l.devs[1].closed || l.devs[0].closed || l.shutdown != 2 {
			t.Errorf("closed %v/%v, %d shutdowns", l.devs[1].closed, l.devs[0].closed, l.shutdown)
		}
	})
}

// TestNVMLSourceRun: without a grid the source reads every poll; a GPU lost stops it with
// NVML's error, and the sampler gives it up after its failures.
func TestNVMLSourceRun(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := fakeNVML(1)
		src, err := newNVMLSource(l.open, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 950*time.Millisecond)
		defer cancel()
		n := 0
		if err := src.Run(ctx, 100*time.Millisecond, func(Reading) { n++ }); err != nil {
			t.Fatal(err)
		}
		if n != 10 {
			t.Errorf("%d readings in 0.95 s at 100 ms, want 10", n)
		}
		l.devs[0].fail = errors.New("GPU is lost (return 15)")
		err = src.Run(t.Context(), 100*time.Millisecond, func(Reading) {})
		if err == nil || !strings.Contains(err.Error(), "nvml: GPU 0: GPU is lost") {
			t.Errorf("lost GPU: %v", err)
		}
	})
}
