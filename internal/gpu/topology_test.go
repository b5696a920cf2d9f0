package gpu

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseVersion(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, data, driver, cuda string }{
		{"--version (real)", string(readFixture(t, "version-580.txt")), "580.159.04", "13.0"},
		{"banner (real)", string(readFixture(t, "summary-h100x4.txt")), "580.159.04", "13.0"},
		{"-q (real header)", "Driver Version                                         : 580.159.04\nCUDA Version                                           : 13.0\n", "580.159.04", "13.0"},
		{"no CUDA", "| NVIDIA-SMI 535.1   Driver Version: 535.104.05   CUDA Version: N/A |", "535.104.05", ""},
		{"nothing", "ERROR: Option --version is not recognized.", "", ""},
	}
	for _, c := range cases {
		d, cu := ParseVersion([]byte(c.data))
		if d != c.driver || cu != c.cuda {
			t.Errorf("%s: got %q %q, want %q %q", c.name, d, cu, c.driver, c.cuda)
		}
	}
}

func TestParseGPUList(t *testing.T) {
	t.Parallel()
	gpus, driver, err := ParseGPUList([]byte("0, GPU-a, 00000000:00:06.0, 81559, 580.159.04, NVIDIA H100 80GB HBM3\n" +
		"1, GPU-b, 00000000:00:07.0, [N/A], 580.159.04, NVIDIA H100 80GB HBM3\n"))
	if err != nil || len(gpus) != 2 || driver != "580.159.04" || gpus[0].MemoryTotalMiB != 81559 || gpus[1].BusID != "00000000:00:07.0" {
		t.Fatalf("got %+v %q %v", gpus, driver, err)
	}
	if _, _, err := ParseGPUList([]byte("No devices were found\n")); err == nil {
		t.Error("an error line parsed as a GPU")
	}
}

// TestCaptureTopology runs the fake nvidia-smi (a child process printing the real captures).
func TestCaptureTopology(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 9, 17, 0, 0, time.UTC)
	topo := CaptureTopology(context.Background(), fakeSMITool(t, "h100x4"), now)
	if topo.Status != StatusPresent || len(topo.Warnings) > 0 {
		t.Fatalf("topology %+v", topo)
	}
	want := "4× NVIDIA H100 80GB HBM3 (81559 MiB), all pairs NVLink NV18"
	if topo.Summary != want || topo.Interconnect != InterconnectNVLinkAll {
		t.Errorf("summary %q (%s), want %q", topo.Summary, topo.Interconnect, want)
	}
	if topo.Driver != "580.159.04" || topo.CUDA != "13.0" || topo.Matrix == nil || !strings.Contains(topo.TopoRaw, "NV18") {
		t.Errorf("versions or matrix missing: %+v", topo)
	}
	if topo.GPUs[2].UUID != "GPU-c0155799-8c77-5b85-eb8f-305fadc561fb" || !topo.CapturedAt.Equal(now) {
		t.Errorf("GPU 2 %+v, captured %v", topo.GPUs[2], topo.CapturedAt)
	}
}

func TestDetectAbsent(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		smi    SMI
		reason string
	}{
		{"no nvidia-smi", SMI{Path: filepath.Join(t.TempDir(), "nvidia-smi")}, "nvidia-smi not found"},
		{"not on PATH", SMI{Path: "llmscale-no-such-nvidia-smi"}, "nvidia-smi not found"},
		{"no devices", fakeSMITool(t, "nodevices"), "found no NVIDIA GPU"},
		{"no driver", fakeSMITool(t, "nodriver"), "driver is not loaded"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			d := Detect(context.Background(), c.smi)
			if d.Status != StatusAbsent || !strings.Contains(d.Reason, c.reason) {
				t.Fatalf("got %+v, want absent because %q", d, c.reason)
			}
			topo := CaptureTopology(context.Background(), c.smi, time.Now())
			if topo.Status != StatusAbsent || !strings.Contains(topo.Summary, c.reason) {
				t.Fatalf("topology %+v", topo)
			}
		})
	}
}
