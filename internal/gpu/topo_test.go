package gpu

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestParseTopoRealH100 parses the real `nvidia-smi topo -m` of the 4×H100 machine: every
// pair NV18, ANSI underline codes around the header, an extra empty cell before GPU NUMA ID.
func TestParseTopoRealH100(t *testing.T) {
	t.Parallel()
	m, err := ParseTopo(readFixture(t, "topo-m-h100x4.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(m.Devices, " ") != "GPU0 GPU1 GPU2 GPU3" {
		t.Fatalf("devices %v", m.Devices)
	}
	for i, a := range m.Devices {
		for j, b := range m.Devices {
			want := "NV18"
			if i == j {
				want = "X"
			}
			if got := m.Link(a, b); got != want {
				t.Errorf("link %s-%s = %q, want %q", a, b, got, want)
			}
		}
	}
	if m.CPUAffinity["GPU3"] != "0-63" || m.NUMAAffinity["GPU3"] != "0" {
		t.Errorf("affinity %v %v", m.CPUAffinity, m.NUMAAffinity)
	}
	class, text := m.GPUInterconnect()
	if class != InterconnectNVLinkAll || text != "all pairs NVLink NV18" {
		t.Errorf("interconnect %q %q", class, text)
	}
}

func TestParseTopoShapes(t *testing.T) {
	t.Parallel()
	cases := []struct{ file, class, text string }{
		{"topo-m-pcie-2gpu.txt", InterconnectPCIe, "PCIe only (SYS)"},
		{"topo-m-nvlink-pairs-nics-4gpu.txt", InterconnectNVLinkPartial, "NVLink on 2 of 6 pairs (NV12), the others PCIe (SYS)"},
		{"topo-m-single.txt", InterconnectSingle, "single GPU"},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join("testdata", "synthetic", c.file))
			if err != nil {
				t.Fatal(err)
			}
			m, err := ParseTopo(data)
			if err != nil {
				t.Fatal(err)
			}
			class, text := m.GPUInterconnect()
			if class != c.class || text != c.text {
				t.Errorf("got %q %q, want %q %q", class, text, c.class, c.text)
			}
		})
	}
	data, _ := os.ReadFile(filepath.Join("testdata", "synthetic", "topo-m-nvlink-pairs-nics-4gpu.txt"))
	m, _ := ParseTopo(data)
	if m.NICs["NIC1"] != "mlx5_1" || m.Link("GPU0", "NIC0") != "PXB" || len(m.GPUs()) != 4 || len(m.Devices) != 6 {
		t.Errorf("NICs: %+v", m)
	}
}

func TestParseTopoErrors(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, data, wantErr string }{
		{"empty", "", "no header"},
		{"no GPU row", "\tGPU0\tGPU1\tCPU Affinity\nGPU0\t X \tNV4\t0-7\n", "no row for GPU1"},
		{"unknown link", "\tGPU0\tGPU1\nGPU0\t X \tWARP\nGPU1\tWARP\t X \n", "unknown link type"},
		{"short row", "\tGPU0\tGPU1\nGPU0\t X \n", "has 1 links, want 2"},
		{"row not in header", "\tGPU0\nGPU0\t X \nGPU7\t X \n", "not in the header"},
		{"error text", "No devices were found\n", "no header"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseTopo([]byte(c.data))
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, c.wantErr)
			}
		})
	}
}

func FuzzParseTopo(f *testing.F) {
	f.Add(readFixture(f, "topo-m-h100x4.txt"))
	for _, name := range []string{"topo-m-pcie-2gpu.txt", "topo-m-nvlink-pairs-nics-4gpu.txt"} {
		data, _ := os.ReadFile(filepath.Join("testdata", "synthetic", name))
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseTopo(data)
		if err != nil {
			return
		}
		for i, row := range m.Links {
			if len(row) != len(m.Devices) {
				t.Fatalf("row %d has %d links for %d devices", i, len(row), len(m.Devices))
			}
		}
		m.GPUInterconnect()
	})
}
