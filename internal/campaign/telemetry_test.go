package campaign

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/llmscale/llmscale/internal/gpu"
	"github.com/llmscale/llmscale/internal/spec"
)

// TestDetectTelemetryWithoutNVML: in a binary without NVML (the default build), auto falls
// back to nvidia-smi (absent here: no such binary) and a forced nvml is absent with the reason.
func TestDetectTelemetryWithoutNVML(t *testing.T) {
	t.Parallel()
	if gpu.NVMLAvailable() {
		t.Skip("built with -tags nvml")
	}
	dir := t.TempDir()
	opts := Options{SMI: gpu.SMI{Path: filepath.Join(dir, "nvidia-smi")}, Now: time.Now}
	cases := []struct{ gpu, source, absent string }{
		{"auto", "", "nvidia-smi not found"},
		{"nvidia-smi", "", "nvidia-smi not found"},
		{"nvml", "", "telemetry.gpu nvml: built without NVML (go build -tags nvml)"},
		{"none", "", "telemetry.gpu is none"},
		{"dcgm", "dcgm", ""},
	}
	for _, c := range cases {
		tel := detectTelemetry(t.Context(), spec.Telemetry{GPU: c.gpu, Interval: spec.Duration(time.Second)}, opts, dir)
		if tel.source != c.source || !strings.Contains(tel.absent, c.absent) || (c.absent == "") != (tel.absent == "") {
			t.Errorf("%s: source %q, absent %q; want %q, %q", c.gpu, tel.source, tel.absent, c.source, c.absent)
		}
		if (tel.sampler(nil) == nil) != (c.source == "") {
			t.Errorf("%s: sampler %v", c.gpu, tel.sampler(nil))
		}
	}
}
