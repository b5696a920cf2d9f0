package host

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"testing/fstest"
)

// procStat builds a /proc/<pid>/stat line with the given times and last CPU.
func procStat(pid int, comm string, utime, stime uint64, cpu int) string {
	f := make([]string, 50)
	for i := range f {
		f[i] = "0"
	}
	f[0], f[1], f[2] = fmt.Sprint(pid), "("+comm+")", "S"
	f[13], f[14], f[38] = fmt.Sprint(utime), fmt.Sprint(stime), fmt.Sprint(cpu)
	return strings.Join(f, " ") + "\n"
}

func TestParseStat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    CPU
		wantErr string
	}{
		{"linux 6", "cpu  100 5 50 800 20 3 2 10 7 0\ncpu0 1 2 3 4 5 6 7 8 9 10\nintr 1\n", CPU{Total: 990, Idle: 820, Steal: 10}, ""},
		{"old kernel, 4 counters", "cpu 10 0 10 80\n", CPU{Total: 100, Idle: 80}, ""},
		{"no cpu line", "intr 1\n", CPU{}, "no cpu line"},
		{"short", "cpu 1 2\n", CPU{}, "fields"},
		{"not a number", "cpu 1 2 x 4\n", CPU{}, "field 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseStat([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseStat = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestParseProcStat(t *testing.T) {
	t.Parallel()
	got, err := ParseProcStat([]byte(procStat(42, "vllm (engine) 0", 300, 45, 3)))
	want := Proc{PID: 42, Comm: "vllm (engine) 0", Ticks: 345, Processor: 3}
	if err != nil || got != want {
		t.Fatalf("ParseProcStat = %+v, %v; want %+v", got, err, want)
	}
	for _, bad := range []string{"", "42 vllm S 1 2", "x (a) S", "42 (a) S 1 2 3"} {
		if _, err := ParseProcStat([]byte(bad)); err == nil {
			t.Errorf("ParseProcStat(%q): no error", bad)
		}
	}
}

func TestCompare(t *testing.T) {
	t.Parallel()
	snap := func(total, idle, steal uint64, procs ...Proc) Snapshot {
		m := map[int]Proc{}
		for _, p := range procs {
			m[p.PID] = p
		}
		return Snapshot{CPU: CPU{Total: total, Idle: idle, Steal: steal}, Procs: m}
	}
	a := snap(1000, 500, 0, Proc{PID: 1, Comm: "self", Ticks: 0, Processor: 0}, Proc{PID: 2, Comm: "vllm", Ticks: 0, Processor: 0},
		Proc{PID: 3, Comm: "elsewhere", Ticks: 0, Processor: 5}, Proc{PID: 4, Comm: "idle", Ticks: 9, Processor: 0})
	tests := []struct {
		name        string
		b           Snapshot
		cores       []int
		util, steal float64
		contended   bool
		sharers     []string
	}{
		{"quiet host", snap(2000, 1100, 0), nil, 0.4, 0, false, nil},
		{"busy host: a server on the client's core", snap(2000, 600, 0, Proc{PID: 1, Comm: "self", Ticks: 150, Processor: 0},
			Proc{PID: 2, Comm: "vllm", Ticks: 400, Processor: 0}, Proc{PID: 3, Comm: "elsewhere", Ticks: 900, Processor: 5},
			Proc{PID: 4, Comm: "idle", Ticks: 9, Processor: 0}), []int{0, 1}, 0.9, 0, true, []string{"vllm (pid 2, 2.00 cores)"}},
		{"every core: both sharers, busiest first", snap(2000, 600, 0, Proc{PID: 2, Comm: "vllm", Ticks: 400, Processor: 0},
			Proc{PID: 3, Comm: "elsewhere", Ticks: 900, Processor: 5}), nil, 0.9, 0, true,
			[]string{"elsewhere (pid 3, 4.50 cores)", "vllm (pid 2, 2.00 cores)"}},
		{"steal", snap(2000, 1000, 80), nil, 0.5, 0.08, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := Compare(a, tt.b, 2, 100, 1, tt.cores)
			if math.Abs(u.CPUUtil-tt.util) > 1e-9 || math.Abs(u.Steal-tt.steal) > 1e-9 || u.Contended != tt.contended {
				t.Errorf("util %g steal %g contended %v; want %g %g %v", u.CPUUtil, u.Steal, u.Contended, tt.util, tt.steal, tt.contended)
			}
			var got []string
			for _, s := range u.Sharers {
				got = append(got, s.String())
			}
			if strings.Join(got, "; ") != strings.Join(tt.sharers, "; ") {
				t.Errorf("sharers %q, want %q", got, tt.sharers)
			}
		})
	}
}

func TestReader(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"stat":      {Data: []byte("cpu 10 0 10 80 0 0 0 0\n")},
		"7/stat":    {Data: []byte(procStat(7, "llmscale", 5, 5, 1))},
		"8/stat":    {Data: []byte("garbage")},
		"self/stat": {Data: []byte(procStat(7, "llmscale", 5, 5, 1))},
	}
	s, err := Reader{FS: fsys}.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if s.CPU.Total != 100 || len(s.Procs) != 1 || s.Procs[7].Ticks != 10 {
		t.Fatalf("snapshot %+v", s)
	}
	if _, err := (Reader{FS: fstest.MapFS{}}).Snapshot(); err == nil {
		t.Error("no /proc/stat: no error")
	}
}

func FuzzParseStat(f *testing.F) {
	f.Add([]byte("cpu  100 5 50 800 20 3 2 10 7 0\n"))
	f.Add([]byte("cpu 1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := ParseStat(data); err == nil && !strings.Contains(string(data), "cpu") {
			t.Fatalf("parsed %q, which has no cpu line", data)
		}
	})
}

func FuzzParseProcStat(f *testing.F) {
	f.Add([]byte(procStat(1, "a b)", 1, 2, 3)))
	f.Add([]byte("1 (x"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseProcStat(data)
		if err == nil && !strings.Contains(string(data), "("+p.Comm+")") {
			t.Fatalf("parsed %q: comm %q is not the text between the parentheses", data, p.Comm)
		}
	})
}
