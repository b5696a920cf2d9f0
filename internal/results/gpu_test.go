package results

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGPUSampleRoundTrip(t *testing.T) {
	t.Parallel()
	p := func(v float64) *float64 { return &v }
	gen, mask, on := int32(5), int64(4), true
	want := []GPUSample{
		{TimeUnixNs: 1, OffsetNs: 0, Tick: 0, GPUIndex: 0, GPUUUID: "GPU-a", GPUName: "H100", Source: "nvidia-smi-query",
			SMUtilPct: p(99), PowerW: p(698.5), PCIeLinkGen: &gen, ClockEventReasons: &mask,
			ClockEventReasonNames: "sw_power_cap", MIGEnabled: &on, SMActivePct: p(0)},
		{TimeUnixNs: 2, OffsetNs: 500, Tick: 1, AgeNs: 40, GPUIndex: 1, GPUUUID: "GPU-b", GPUName: "H100", Source: "dcgm"},
	}
	path := filepath.Join(t.TempDir(), "gpu.parquet")
	if err := WriteParquet(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadParquet[GPUSample](path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("round trip (-want +got):\n%s", diff)
	}
}
