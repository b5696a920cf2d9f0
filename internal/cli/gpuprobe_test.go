package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
