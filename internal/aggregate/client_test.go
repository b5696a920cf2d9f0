package aggregate

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/llmscale/llmscale/internal/results"
)

func TestFillClientHost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		files     map[string]string
		failures  string // "" null
		util      string
		steal     string
		wantError bool
	}{
		{"one summary", map[string]string{"summary.json": `{"client_failures": 7, "host_cpu_util": 0.93, "host_steal": 0.01}`},
			"7", "0.93", "0.01", false},
		{"older summary: unknown, not zero", map[string]string{"summary.json": `{"client_cores_busy": 0.2}`}, "", "", "", false},
		{"zero is a count", map[string]string{"summary.json": `{"client_failures": 0, "host_cpu_util": 0.2, "host_steal": null}`},
			"0", "0.2", "", false},
		{"workers: failures summed, busiest host", map[string]string{
			"summary-0.json": `{"client_failures": 3, "host_cpu_util": 0.5, "host_steal": 0.07}`,
			"summary-1.json": `{"client_failures": 4, "host_cpu_util": 0.9, "host_steal": 0.02}`,
			"summary.json":   `{"client_failures": 100}`}, "7", "0.9", "0.07", false},
		{"unreadable", map[string]string{"summary.json": `{`}, "", "", "", true},
	}
	show := func(p any) string {
		switch v := p.(type) {
		case *float64:
			if v != nil {
				return strconv.FormatFloat(*v, 'g', -1, 64)
			}
		}
		return ""
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for name, body := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var r Row
			err := fillClientSummaries(&r, dir, results.Experiment{})
			if (err != nil) != tt.wantError {
				t.Fatalf("err %v, want error %v", err, tt.wantError)
			}
			if got := [3]string{show(r.ClientFailures), show(r.HostCPUUtil), show(r.HostSteal)}; got != [3]string{tt.failures, tt.util, tt.steal} {
				t.Errorf("client_failures, host_cpu_util, host_steal = %q, want %q", got, [3]string{tt.failures, tt.util, tt.steal})
			}
		})
	}
}
