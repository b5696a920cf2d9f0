package gpu

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "nvidia-smi", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func capturedFields(t testing.TB) []string {
	return strings.Split(strings.TrimSpace(string(readFixture(t, "query-lms200-idle-busy-h100x4.fields"))), ",")
}

// TestParseQueryRealCapture parses 124 real lines of `nvidia-smi --query-gpu=… -lms 200` taken
// on 4 H100s while GPUs 0 and 1 ran bf16 matmuls (GPU 0 ended thermally throttled, GPU 1 at its
// power cap) and GPU 2 copied to GPU 3 over NVLink.
func TestParseQueryRealCapture(t *testing.T) {
	t.Parallel()
	rs, err := ParseQuery(capturedFields(t), readFixture(t, "query-lms200-idle-busy-h100x4.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 124 {
		t.Fatalf("got %d readings, want 124", len(rs))
	}
	first := rs[0]
	want := map[Metric]float64{
		SMUtilPct: 0, MemTotalMiB: 81559, PowerW: 83.78, PowerInstantW: 83.88, PowerLimitW: 700,
		SMClockMHz: 345, MemClockMHz: 2619, TempC: 64, MemTempC: 65, PState: 0, ClockEventReasons: 1,
		PCIeLinkGen: 5, PCIeLinkWidth: 16, ECCUncorrected: 0, MIGEnabled: 0,
	}
	for m, v := range want {
		if first.Metrics[m] != v {
			t.Errorf("first line %s = %v, want %v", m, first.Metrics[m], v)
		}
	}
	if first.Index != 0 || first.UUID != "GPU-7434ddf2-c95d-9d36-1908-3b8b73c464ee" || first.Name != "NVIDIA H100 80GB HBM3" {
		t.Errorf("first line identity = %d %q %q", first.Index, first.UUID, first.Name)
	}
	if first.Metrics.Has(SMActivePct) {
		t.Error("query mode gave sm_active_pct; it has no such field")
	}
	reasons := map[int]map[float64]bool{}
	for _, r := range rs {
		if reasons[r.Index] == nil {
			reasons[r.Index] = map[float64]bool{}
		}
		reasons[r.Index][r.Metrics[ClockEventReasons]] = true
	}
	if !reasons[0][0x20] || !reasons[1][0x4] {
		t.Errorf("want GPU 0 in sw_thermal_slowdown (0x20) and GPU 1 at sw_power_cap (0x4) at some point, got %v", reasons)
	}
	if len(reasons) != 4 {
		t.Errorf("got GPUs %v, want 0–3", reasons)
	}
}

// TestParseQueryHeaderFormats checks that --format=csv (header with units, values with units)
// and --format=csv,noheader,nounits give the same readings for the same real fields.
func TestParseQueryHeaderFormats(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"query-header-busy-h100x4.csv", "query-default-header-busy-h100x4.csv"} {
		rs, err := ParseQueryCSV(readFixture(t, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(rs) != 4 {
			t.Fatalf("%s: %d readings, want 4", name, len(rs))
		}
		if rs[0].Metrics[SMUtilPct] != 99 && rs[0].Metrics[SMUtilPct] != 100 {
			t.Errorf("%s: GPU 0 busy util = %v", name, rs[0].Metrics[SMUtilPct])
		}
		if !rs[0].Metrics.Has(SMClockMHz) || !rs[0].Metrics.Has(MemUsedMiB) || !rs[0].Metrics.Has(PowerW) {
			t.Errorf("%s: header aliases or units lost values: %v", name, rs[0].Metrics)
		}
	}
	rs, err := ParseQueryCSV(readFixture(t, "query-default-header-busy-h100x4.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if got := rs[0].Metrics[ThrottleSWPowerUs]; got != 728630 {
		t.Errorf("sw power cap counter \"728630 us\" read as %v", got)
	}
	nounits, err := ParseQuery(DefaultQueryFields(), readFixture(t, "query-default-busy-h100x4.csv"))
	if err != nil || len(nounits) != 4 || nounits[0].Metrics[ThrottleSWPowerUs] != 628582 {
		t.Fatalf("nounits capture: %v %v", nounits, err)
	}
}

func TestParseValue(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	cases := []struct {
		in      string
		want    float64
		wantErr bool
	}{
		{"83.78", 83.78, false}, {" 0 ", 0, false}, {"83.81 W", 83.81, false}, {"0 %", 0, false},
		{"81559 MiB", 81559, false}, {"345 MHz", 345, false}, {"9842414 us", 9842414, false},
		{"[N/A]", nan, false}, {"N/A", nan, false}, {"[Not Supported]", nan, false}, {"", nan, false},
		{"[Unknown Error]", nan, false}, {"[GPU requires reset]", nan, false}, {"-", nan, false},
		{"P0", 0, false}, {"P8", 8, false}, {"0x0000000000000020", 32, false}, {"Active", 1, false},
		{"Not Active", 0, false}, {"Enabled", 1, false}, {"Disabled", 0, false},
		{"Default", 0, true}, {"12 parsecs", 0, true}, {"0xZZ", 0, true}, {"1e999", 0, true}, {"Px", 0, true},
	}
	for _, c := range cases {
		got, err := parseValue(c.in)
		if (err != nil) != c.wantErr {
			t.Errorf("parseValue(%q) error = %v, want error %v", c.in, err, c.wantErr)
			continue
		}
		if !c.wantErr && !(got == c.want || math.IsNaN(got) && math.IsNaN(c.want)) {
			t.Errorf("parseValue(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestParseQueryLine(t *testing.T) {
	t.Parallel()
	fields := []string{"index", "uuid", "utilization.gpu", "memory.used", "power.draw", "name"}
	cases := []struct {
		name, line string
		wantErr    string
		check      func(Reading) bool
	}{
		{"name with a comma stays whole", "3, GPU-x, 5, 10, 70.5, NVIDIA A100-SXM4-80GB, rev 2",
			"", func(r Reading) bool { return r.Index == 3 && r.Name == "NVIDIA A100-SXM4-80GB, rev 2" }},
		{"trailing spaces and CR", "0, GPU-x, 5, 10, 70.5, H100   \r",
			"", func(r Reading) bool { return r.Name == "H100" && r.Metrics[PowerW] == 70.5 }},
		{"MIG: utilisation not available", "1, GPU-y, [N/A], 2048, [Not Supported], NVIDIA H100 80GB HBM3",
			"", func(r Reading) bool {
				return !r.Metrics.Has(SMUtilPct) && !r.Metrics.Has(PowerW) && r.Metrics[MemUsedMiB] == 2048
			}},
		{"too few values", "0, GPU-x, 5", "got 3 values for 6 fields", nil},
		{"error line instead of values", "Unable to determine the device handle for GPU0000:07:00.0: Unknown Error",
			"values for 6 fields", nil},
		{"bad index", "x, GPU-x, 5, 10, 70.5, H100", "bad GPU index", nil},
		{"bad number", "0, GPU-x, lots, 10, 70.5, H100", "utilization.gpu", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r, err := ParseQueryLine(fields, c.line)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("ParseQueryLine(%q) error = %v, want one containing %q", c.line, err, c.wantErr)
				}
				return
			}
			if err != nil || !c.check(r) {
				t.Fatalf("ParseQueryLine(%q) = %+v, %v", c.line, r, err)
			}
		})
	}
	if _, err := ParseQueryLine([]string{"uuid", "power.draw"}, "GPU-x, 5"); err == nil {
		t.Error("a line without the index field parsed")
	}
	if _, err := ParseQueryLine(nil, "0"); err == nil {
		t.Error("no fields parsed")
	}
}

func TestParseQueryReportsBadLines(t *testing.T) {
	t.Parallel()
	data := "0, GPU-a, 5, 10, 70, H100\nNo devices were found\n\n1, GPU-b, 7, 12, 71, H100\n"
	rs, err := ParseQuery([]string{"index", "uuid", "utilization.gpu", "memory.used", "power.draw", "name"}, []byte(data))
	if len(rs) != 2 || err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("got %d readings, err %v; want 2 and an error naming line 2", len(rs), err)
	}
}

// TestDefaultFieldsKnownToDriver580 checks every field the query sampler asks for against
// the real --help-query-gpu of driver 580: an unknown field makes nvidia-smi refuse the query.
func TestDefaultFieldsKnownToDriver580(t *testing.T) {
	t.Parallel()
	valid := ParseHelpQueryGPU(readFixture(t, "help-query-gpu-580.txt"))
	if len(valid) < 200 {
		t.Fatalf("read %d fields from the help, want over 200", len(valid))
	}
	use, dropped := UsableFields(DefaultQueryFields(), valid)
	if len(dropped) > 0 || !slices.Equal(use, DefaultQueryFields()) {
		t.Fatalf("driver 580 lacks %v", dropped)
	}
	for _, f := range DefaultQueryFields() {
		if _, ok := queryMetric(f); !ok && f != "index" && f != "uuid" && f != "name" {
			t.Errorf("default field %s fills no metric", f)
		}
	}
}

func TestUsableFieldsOlderDriver(t *testing.T) {
	t.Parallel()
	valid := map[string]bool{"uuid": true, "power.draw": true, "clocks_throttle_reasons.active": true}
	use, dropped := UsableFields([]string{"index", "uuid", "power.draw", "power.draw.instant", "clocks_event_reasons.active"}, valid)
	if !slices.Equal(use, []string{"index", "uuid", "power.draw", "clocks_throttle_reasons.active"}) ||
		!slices.Equal(dropped, []string{"power.draw.instant"}) {
		t.Fatalf("use %v, dropped %v", use, dropped)
	}
	if use, _ := UsableFields([]string{"a"}, nil); !slices.Equal(use, []string{"a"}) {
		t.Errorf("an empty valid set must keep the fields, got %v", use)
	}
}

func FuzzParseQuery(f *testing.F) {
	for _, l := range strings.Split(string(readFixture(f, "query-lms200-idle-busy-h100x4.csv")), "\n")[:12] {
		f.Add(strings.Join(capturedFields(f), ","), l)
	}
	f.Add("index,name", "0, a,b,c")
	f.Add("index,power.draw", "0, [N/A]")
	f.Fuzz(func(t *testing.T, fieldList, line string) {
		fields := strings.Split(fieldList, ",")
		r, err := ParseQueryLine(fields, line)
		if err == nil && r.Index < 0 {
			t.Fatalf("no error but index %d", r.Index)
		}
		rs, _ := ParseQuery(fields, []byte(line+"\n"+line))
		for _, r := range rs {
			if r.Index < 0 {
				t.Fatalf("reading with index %d", r.Index)
			}
		}
		ParseQueryCSV([]byte(fieldList + "\n" + line))
	})
}
