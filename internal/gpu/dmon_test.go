package gpu

import (
	"strings"
	"testing"
)

// TestParseDmonRealCaptures parses every real dmon capture: plain, -o T, -o DT, CSV, and with
// GPM metrics (whose first two samples are "-").
func TestParseDmonRealCaptures(t *testing.T) {
	t.Parallel()
	cases := []struct {
		file  string
		check func(t *testing.T, rs []Reading)
	}{
		{"dmon-pucvmet-busy-h100x4.txt", func(t *testing.T, rs []Reading) {
			r := rs[0] // "0 490 87 82 100 27 … 2619 1095 0 0 1139 …"
			if r.Metrics[PowerW] != 490 || r.Metrics[TempC] != 87 || r.Metrics[SMUtilPct] != 100 ||
				r.Metrics[SMClockMHz] != 1095 || r.Metrics[MemUsedMiB] != 1139 || r.Metrics[PowerViolationPct] != 0 {
				t.Errorf("first row %v", r.Metrics)
			}
			if rs[4].Metrics[PowerViolationPct] != 100 {
				t.Errorf("GPU 0 second sample pviol = %v, want 100", rs[4].Metrics[PowerViolationPct])
			}
		}},
		{"dmon-pucvmet-DT-idle-busy-h100x4.txt", nil},
		{"dmon-pucvmet-T-busy-h100x4.txt", nil},
		{"dmon-pucvmet-csv-busy-h100x4.txt", nil},
		{"dmon-gpm-busy-h100x4.txt", func(t *testing.T, rs []Reading) {
			if rs[0].Metrics.Has(SMActivePct) {
				t.Errorf("first GPM sample is \"-\", got sm_active %v", rs[0].Metrics[SMActivePct])
			}
			last := rs[len(rs)-2] // GPU 2, copying to GPU 3 over NVLink
			if last.Index != 2 || last.Metrics[NVLinkTxMiBps] != 384033 || last.Metrics[SMActivePct] != 0 || last.Metrics[SMUtilPct] != 99 {
				t.Errorf("GPU 2 during the NVLink copy: %v", last.Metrics)
			}
			if g0 := rs[8]; g0.Metrics[SMActivePct] != 95 || g0.Metrics[TensorActivePct] != 93 || g0.Metrics[DRAMActivePct] != 19 {
				t.Errorf("GPU 0 matmul GPM = %v", g0.Metrics)
			}
		}},
		{"dmon-pucv-gpm-csv-busy-h100x4.txt", func(t *testing.T, rs []Reading) {
			if r := rs[8]; r.Metrics[PowerViolationPct] != 100 || r.Metrics[SMActivePct] != 95 || r.Metrics[SMOccupancyPct] != 14 {
				t.Errorf("-s pucv with GPM, GPU 0: %v", r.Metrics)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			t.Parallel()
			data := readFixture(t, c.file)
			rs, err := ParseDmon(data)
			if err != nil {
				t.Fatal(err)
			}
			want := 0
			for _, l := range strings.Split(string(data), "\n") {
				if s := strings.TrimSpace(l); s != "" && !strings.HasPrefix(s, "#") {
					want++
				}
			}
			if len(rs) != want || want == 0 {
				t.Fatalf("got %d readings, want %d", len(rs), want)
			}
			for i, r := range rs {
				if r.Index != i%4 {
					t.Fatalf("reading %d is GPU %d, want %d", i, r.Index, i%4)
				}
			}
			if c.check != nil {
				c.check(t, rs)
			}
		})
	}
}

func TestDmonParserErrors(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, data, wantErr string }{
		{"data before header", "    0    490\n", "before its header"},
		{"short row", "# gpu pwr sm\n# Idx W %\n 0 490\n", "2 values for 3 columns"},
		{"bad index", "# gpu pwr\n x 490\n", "bad GPU index"},
		{"bad value", "# gpu pwr\n 0 lots\n", "column pwr"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseDmon([]byte(c.data))
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, c.wantErr)
			}
		})
	}
	var p DmonParser
	p.ParseLine("# gpu pwr")
	if r, ok, err := p.ParseLine(" 1 -"); !ok || err != nil || r.Index != 1 || r.Metrics.Has(PowerW) {
		t.Errorf("\"-\" must parse as not available: %v %v %v", r, ok, err)
	}
	if _, ok, err := p.ParseLine("#gpu, pwr, sm,"); ok || err != nil {
		t.Errorf("CSV header with a trailing comma: %v %v", ok, err)
	}
	if r, ok, err := p.ParseLine(" 2, 70, 5"); !ok || err != nil || r.Metrics[SMUtilPct] != 5 {
		t.Errorf("after a CSV header: %v %v %v", r, ok, err)
	}
}

func FuzzParseDmon(f *testing.F) {
	for _, name := range []string{"dmon-gpm-busy-h100x4.txt", "dmon-pucvmet-csv-busy-h100x4.txt", "dmon-pucvmet-T-busy-h100x4.txt"} {
		f.Add(readFixture(f, name)[:600])
	}
	f.Add([]byte("# gpu\n 0\n# gpu pwr\n 1 -\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, _ := ParseDmon(data)
		for _, r := range rs {
			if r.Index < 0 {
				t.Fatalf("reading with index %d", r.Index)
			}
		}
	})
}
