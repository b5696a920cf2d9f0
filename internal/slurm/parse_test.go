package slurm

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestParseQueueJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file string
		want []Job
	}{
		{"squeue-22.05.json", []Job{ // captured from slurm-wlm 22.05.8 (Debian 12)
			{ID: "1", Name: "wrap", State: "COMPLETED", Nodes: "vm"},
			{ID: "2", Name: "wrap", State: "CANCELLED", Nodes: "vm", Signal: 15},
			{ID: "3", Name: "wrap", State: "FAILED", Reason: "NonZeroExitCode", ExitCode: 3, Nodes: "vm"},
			{ID: "16", Name: "run-me", State: "RUNNING", Nodes: "vm"},
			{ID: "18", Name: "wait-2", State: "PENDING", Reason: "Resources", ExitCode: 0},
		}},
		{"squeue-23.11.json", []Job{ // the shape of 23.02 and later: state lists, exit code objects
			{ID: "101", Name: "llmscale-c-G1_TP1_DP1", State: "RUNNING", Nodes: "gpu01"},
			{ID: "102", Name: "llmscale-c-G2_TP1_DP2", State: "CANCELLED", Nodes: "gpu02", Signal: 15},
			{ID: "103", Name: "llmscale-c-G4_TP4_DP1", State: "PENDING", Reason: "Priority"},
			{ID: "104", Name: "llmscale-c-G8_TP8_DP1", State: "FAILED", Reason: "NonZeroExitCode", ExitCode: 3, Nodes: "gpu03"},
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			got, err := ParseQueueJSON(readTestdata(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("jobs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseQueueJSONErrors(t *testing.T) {
	t.Parallel()
	for name, input := range map[string]string{
		"squeue's error list": string(readTestdata(t, "squeue-error.json")),
		"not JSON":            "slurm_load_jobs error: Socket timed out",
		"job id text":         `{"jobs": [{"job_id": "x", "job_state": "RUNNING"}]}`,
		"job id missing":      `{"jobs": [{"job_state": "RUNNING"}]}`,
		"negative job id":     `{"jobs": [{"job_id": -4, "job_state": "RUNNING"}]}`,
		"state a number":      `{"jobs": [{"job_id": 4, "job_state": 3}]}`,
	} {
		if jobs, err := ParseQueueJSON([]byte(input)); !errors.Is(err, ErrParse) {
			t.Errorf("%s: got %v, %v; want ErrParse", name, jobs, err)
		}
	}
}

func TestParseQueueText(t *testing.T) {
	t.Parallel()
	got, err := ParseQueueText(readTestdata(t, "squeue.txt"))
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]Job{}
	for _, j := range got {
		byID[j.ID] = j
	}
	want := map[string]Job{
		"3":  {ID: "3", State: "FAILED", Reason: "NonZeroExitCode", Nodes: "vm", ExitCode: -1},
		"18": {ID: "18", State: "PENDING", Reason: "Resources", ExitCode: -1},
		"16": {ID: "16", State: "RUNNING", Nodes: "vm", ExitCode: -1},
	}
	for id, w := range want {
		if diff := cmp.Diff(w, byID[id]); diff != "" {
			t.Errorf("job %s (-want +got):\n%s", id, diff)
		}
	}
	if _, err := ParseQueueText([]byte("12\n")); !errors.Is(err, ErrParse) {
		t.Errorf("a line without state: got %v, want ErrParse", err)
	}
	if _, err := ParseQueueText([]byte("abc|RUNNING|None|vm\n")); !errors.Is(err, ErrParse) {
		t.Errorf("a bad id: got %v, want ErrParse", err)
	}
}

func TestParseScontrolAndSacct(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		parse func([]byte) (Job, error)
		file  string
		want  Job
	}{
		{"running", ParseScontrol, "scontrol-running.txt", Job{ID: "16", Name: "run-me", State: "RUNNING", Nodes: "vm"}},
		{"cancelled", ParseScontrol, "scontrol-cancelled.txt", Job{ID: "16", Name: "run-me", State: "CANCELLED", Nodes: "vm", Signal: 15}},
		{"sacct", ParseSacct, "sacct.txt", Job{ID: "12", State: "CANCELLED", Signal: 15}},
	} {
		got, err := tc.parse(readTestdata(t, tc.file))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
	if _, err := ParseScontrol([]byte("slurm_load_jobs error: Invalid job id specified")); !errors.Is(err, ErrParse) {
		t.Errorf("scontrol error text: got %v, want ErrParse", err)
	}
	if _, err := ParseSacct(nil); !errors.Is(err, ErrParse) {
		t.Errorf("empty sacct: got %v, want ErrParse", err)
	}
}

func TestParseSubmit(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"42\n": "42", "42;cluster\n": "42", "sbatch: warning: something\n77\n": "77",
	} {
		if got, err := ParseSubmit([]byte(in)); err != nil || got != want {
			t.Errorf("ParseSubmit(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "Submitted batch job 42", "x;y"} {
		if got, err := ParseSubmit([]byte(in)); !errors.Is(err, ErrParse) {
			t.Errorf("ParseSubmit(%q) = %q, %v; want ErrParse", in, got, err)
		}
	}
}

func TestPhaseOf(t *testing.T) {
	t.Parallel()
	for state, want := range map[string]Phase{
		"PENDING": PhasePending, "REQUEUED": PhasePending, "SUSPENDED": PhasePending,
		"RUNNING": PhaseRunning, "COMPLETING": PhaseRunning, "CONFIGURING": PhaseRunning, "STAGE_OUT": PhaseRunning,
		"COMPLETED": PhaseEnded, "CANCELLED": PhaseEnded, "CANCELLED+": PhaseEnded, "CANCELLED by 0": PhaseEnded,
		"FAILED": PhaseEnded, "TIMEOUT": PhaseEnded, "NODE_FAIL": PhaseEnded, "OUT_OF_MEMORY": PhaseEnded,
		"PREEMPTED": PhaseEnded, "BOOT_FAIL": PhaseEnded, "DEADLINE": PhaseEnded, "running": PhaseRunning,
		"SOMETHING_NEW": PhaseUnknown, "": PhaseUnknown,
	} {
		if got := PhaseOf(state); got != want {
			t.Errorf("PhaseOf(%q) = %v, want %v", state, got, want)
		}
	}
}

func TestJobDescribe(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		job       Job
		want      string
		succeeded bool
	}{
		{Job{State: "COMPLETED"}, "COMPLETED", true},
		{Job{State: "COMPLETED", ExitCode: -1}, "COMPLETED", true},
		{Job{State: "FAILED", ExitCode: 3, Reason: "NonZeroExitCode"}, "FAILED (exit code 3)", false},
		{Job{State: "CANCELLED", Signal: 15}, "CANCELLED (signal 15)", false},
		{Job{State: "TIMEOUT", Reason: "TimeLimit"}, "TIMEOUT (TimeLimit)", false},
		{Job{State: "COMPLETED", Signal: 9}, "COMPLETED (signal 9)", false},
	} {
		if got := tc.job.Describe(); got != tc.want {
			t.Errorf("%+v: Describe() = %q, want %q", tc.job, got, tc.want)
		}
		if got := tc.job.Succeeded(); got != tc.succeeded {
			t.Errorf("%+v: Succeeded() = %v, want %v", tc.job, got, tc.succeeded)
		}
	}
}

// The parsers read bytes from outside (Slurm's commands, any version): never a panic, and
// either an error or jobs with a numeric id and a state.
func FuzzParseQueueJSON(f *testing.F) {
	for _, name := range []string{"squeue-22.05.json", "squeue-23.11.json", "squeue-error.json"} {
		f.Add(readTestdata(f, name))
	}
	f.Add([]byte(`{"jobs":[{"job_id":{"number":7},"job_state":[],"exit_code":{"return_code":"x"}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		jobs, err := ParseQueueJSON(data)
		if err != nil {
			if !errors.Is(err, ErrParse) {
				t.Fatalf("error %v does not wrap ErrParse", err)
			}
			return
		}
		for _, j := range jobs {
			if j.ID == "" || j.ID[0] < '0' || j.ID[0] > '9' {
				t.Fatalf("job id %q", j.ID)
			}
			_ = j.Phase()
			_ = j.Describe()
		}
	})
}

func FuzzParseQueueText(f *testing.F) {
	f.Add(readTestdata(f, "squeue.txt"))
	f.Add(readTestdata(f, "scontrol-running.txt"))
	f.Fuzz(func(t *testing.T, data []byte) {
		jobs, err := ParseQueueText(data)
		if err != nil && !errors.Is(err, ErrParse) {
			t.Fatalf("error %v does not wrap ErrParse", err)
		}
		for _, j := range jobs {
			if j.ID == "" {
				t.Fatal("a job without id")
			}
		}
	})
}

func FuzzParseScontrol(f *testing.F) {
	f.Add(readTestdata(f, "scontrol-running.txt"))
	f.Add(readTestdata(f, "scontrol-cancelled.txt"))
	f.Add(readTestdata(f, "sacct.txt"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if j, err := ParseScontrol(data); err == nil && (j.ID == "" || j.State == "") {
			t.Fatalf("scontrol: %+v without an error", j)
		}
		if j, err := ParseSacct(data); err == nil && j.ID == "" {
			t.Fatalf("sacct: %+v without an error", j)
		}
		_, _ = ParseSubmit(data)
	})
}
