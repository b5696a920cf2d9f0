package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llmscale/llmscale/internal/gpu"
)

func runMain(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	env := Env{Args: args, Getenv: func(string) string { return "" }, Dir: t.TempDir(), Stdin: strings.NewReader(""),
		Stdout: &out, Stderr: &errOut, Now: time.Now}
	code := Main(context.Background(), env)
	return code, out.String(), errOut.String()
}

func TestGPUProbeFake(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	code, out, errOut := runMain(t, "gpu-probe", "--source", "fake", "--gpus", "0,1,2", "--interval", "20ms",
		"--duration", "200ms", "--out", dir)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "recorded") || !strings.Contains(out, "means per GPU") {
		t.Errorf("output:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "gpu.parquet")); err != nil {
		t.Error(err)
	}
}

func TestGPUProbeWithoutGPU(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	code, out, errOut := runMain(t, "gpu-probe", "--nvidia-smi", filepath.Join(dir, "nvidia-smi"), "--out", dir)
	if code != ExitOK || !strings.Contains(out, "no GPU telemetry: nvidia-smi not found") {
		t.Fatalf("exit %d, out %q, err %q", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "topology.json")); err != nil {
		t.Error(err)
	}
}

func TestGPUProbeBadFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"gpu-probe", "--source", "magic"},
		{"gpu-probe", "--gpus", "0,x", "--source", "fake"},
		{"gpu-probe", "--interval", "0s"},
	} {
		if code, _, _ := runMain(t, args...); code != ExitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, ExitUsage)
		}
	}
}

func TestGPUProbeNVMLNotBuiltIn(t *testing.T) {
	t.Parallel()
	if gpu.NVMLAvailable() {
		t.Skip("built with -tags nvml")
	}
	code, _, errOut := runMain(t, "gpu-probe", "--source", "nvml", "--out", t.TempDir())
	if code != ExitUsage || !strings.Contains(errOut, "built without NVML (go build -tags nvml)") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestPrintNVMLStats(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	printNVMLStats(&b, gpu.NVMLStats{})
	if b.Len() != 0 {
		t.Errorf("no polls printed %q", b.String())
	}
	printNVMLStats(&b, gpu.NVMLStats{Polls: 4, Readings: 16, Wall: 8 * time.Millisecond, CPU: 4 * time.Millisecond,
		Calls: []gpu.NVMLCall{{Name: "gpm", Count: 16, Wall: 4 * time.Millisecond}}})
	for _, want := range []string{"4 polls, 16 readings", "2.000 ms wall, 1.000 ms CPU", "gpm", "250.0 µs each", "1.000 ms per poll"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("missing %q in %q", want, b.String())
		}
	}
}
