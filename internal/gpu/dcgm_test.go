package gpu

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func dcgmFixture(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "synthetic", "dcgm-exporter-h100x2.prom"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestParseDCGM(t *testing.T) {
	t.Parallel()
	rs, err := ParseDCGM(dcgmFixture(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].Index != 0 || rs[1].Index != 1 {
		t.Fatalf("got %d readings %+v", len(rs), rs)
	}
	g0, g1 := rs[0].Metrics, rs[1].Metrics
	want := map[Metric]float64{
		SMClockMHz: 1350, PowerW: 698.512, PowerLimitW: 700, EnergyJ: 31035686.671, SMUtilPct: 99,
		MemUsedMiB: 1139, MemTotalMiB: 1139 + 79940 + 480, ClockEventReasons: 4, ThrottleSWPowerUs: 728630,
		SMActivePct: 95, SMOccupancyPct: 14, TensorActivePct: 92.5, DRAMActivePct: 25, GrEngineActivePct: 99,
		PCIeTxMiBps: 7, PCIeRxMiBps: 17, NVLinkTxMiBps: 402689654784.0 / (1 << 20), MemTempC: 44,
	}
	for m, v := range want {
		if diff := g0[m] - v; diff > 1e-6 || diff < -1e-6 {
			t.Errorf("GPU 0 %s = %v, want %v", m, g0[m], v)
		}
	}
	if g1.Has(MemTempC) {
		t.Errorf("DCGM's blank sentinel read as a temperature: %v", g1[MemTempC])
	}
	if g1[SMActivePct] != 0 || g1[NVLinkRxMiBps] != 402689654784.0/(1<<20) {
		t.Errorf("GPU 1: the MIG-instance series must be skipped: sm_active %v nvlink_rx %v", g1[SMActivePct], g1[NVLinkRxMiBps])
	}
	if rs[0].UUID != "GPU-7434ddf2-c95d-9d36-1908-3b8b73c464ee" || rs[0].Name != "NVIDIA H100 80GB HBM3" {
		t.Errorf("identity %q %q", rs[0].UUID, rs[0].Name)
	}
	if _, err := ParseDCGM([]byte("DCGM_FI_DEV_GPU_TEMP{gpu=\"0\" 5\n")); err == nil {
		t.Error("broken exposition parsed")
	}
	if rs, err := ParseDCGM([]byte("DCGM_FI_DEV_GPU_TEMP{gpu=\"x\"} 5\nDCGM_FI_DEV_GPU_TEMP{gpu=\"-1\"} 5\n")); err != nil || len(rs) != 0 {
		t.Errorf("series without a GPU index: %v %v", rs, err)
	}
}

func TestDCGMSource(t *testing.T) {
	t.Parallel()
	body := dcgmFixture(t)
	var fail atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if fail.Load() {
			http.Error(w, "exporter down", http.StatusServiceUnavailable)
			return
		}
		w.Write(body)
	}))
	defer srv.Close()
	defer srv.Client().CloseIdleConnections()
	src := &DCGMSource{URL: srv.URL + "/metrics", Client: srv.Client()}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	n := 0
	err := src.Run(ctx, 10*time.Millisecond, func(r Reading) {
		if n++; n == 4 { // two scrapes of two GPUs
			cancel()
		}
	})
	if err != nil || n != 4 {
		t.Fatalf("got %d readings, err %v", n, err)
	}
	fail.Store(true)
	err = src.Run(t.Context(), 10*time.Millisecond, func(Reading) {})
	if err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("error %v, want the HTTP status", err)
	}
	src = &DCGMSource{URL: "http://127.0.0.1:1/metrics"}
	if err := src.Run(t.Context(), time.Second, func(Reading) {}); err == nil {
		t.Fatal("no exporter, no error")
	}
}

func FuzzParseDCGM(f *testing.F) {
	f.Add(dcgmFixture(f))
	f.Add([]byte("DCGM_FI_DEV_FB_USED{gpu=\"0\"} 5\nDCGM_FI_DEV_FB_FREE{gpu=\"0\"} 9.2e18\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := ParseDCGM(data)
		if err != nil {
			return
		}
		for _, r := range rs {
			if r.Index < 0 {
				t.Fatalf("reading with index %d", r.Index)
			}
		}
	})
}
