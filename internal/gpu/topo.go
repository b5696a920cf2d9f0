package gpu

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// TopoMatrix is `nvidia-smi topo -m` parsed: the devices in matrix order (GPU0…, then NIC0…
// where the machine has NICs) and the link type between every pair: "X" (self), "NV18" (a
// bonded set of 18 NVLinks), "PIX", "PXB", "PHB", "NODE" or "SYS" (PCIe paths, nearest first;
// older drivers say "SOC" for SYS).
type TopoMatrix struct {
	Devices      []string          `json:"devices"`
	Links        [][]string        `json:"links"`
	CPUAffinity  map[string]string `json:"cpu_affinity,omitempty"`
	NUMAAffinity map[string]string `json:"numa_affinity,omitempty"`
	NICs         map[string]string `json:"nics,omitempty"` // NIC0 → mlx5_0, from the NIC legend
}

// Link is the link type between devices a and b, "" if either is unknown.
func (t TopoMatrix) Link(a, b string) string {
	i, j := slices.Index(t.Devices, a), slices.Index(t.Devices, b)
	if i < 0 || j < 0 {
		return ""
	}
	return t.Links[i][j]
}

// GPUs lists the matrix's GPU devices ("GPU0", …).
func (t TopoMatrix) GPUs() []string {
	var out []string
	for _, d := range t.Devices {
		if strings.HasPrefix(d, "GPU") {
			out = append(out, d)
		}
	}
	return out
}

// IsNVLink reports whether a link type is NVLink ("NV4", "NV18", …).
func IsNVLink(link string) bool {
	n, ok := strings.CutPrefix(link, "NV")
	if !ok || n == "" {
		return false
	}
	_, err := strconv.Atoi(n)
	return err == nil
}

func knownLink(s string) bool {
	switch s {
	case "X", "PIX", "PXB", "PHB", "NODE", "SYS", "SOC":
		return true
	}
	return IsNVLink(s)
}

var ansiEscape = regexp.MustCompile("\x1b\\[[0-9;]*[A-Za-z]")

var deviceName = regexp.MustCompile(`^(GPU|NIC)[0-9]+$`)

// ParseTopo parses the output of `nvidia-smi topo -m` (tab-separated, with ANSI underline
// codes around the header, a legend below).
func ParseTopo(data []byte) (TopoMatrix, error) {
	t := TopoMatrix{CPUAffinity: map[string]string{}, NUMAAffinity: map[string]string{}, NICs: map[string]string{}}
	lines := strings.Split(ansiEscape.ReplaceAllString(string(data), ""), "\n")
	head := -1
	for i, l := range lines {
		cells := topoCells(l)
		if len(cells) > 0 && deviceName.MatchString(cells[0]) && head < 0 {
			t.Devices = headerDevices(cells)
			head = i
			break
		}
	}
	if head < 0 || len(t.Devices) == 0 {
		return t, errors.New("topo -m: no header line naming GPU0")
	}
	if err := t.readRows(lines[head+1:]); err != nil {
		return t, err
	}
	t.readNICLegend(lines)
	return t, nil
}

// topoCells splits a line on tabs and trims each cell.
func topoCells(l string) []string {
	l = strings.TrimRight(l, "\r")
	if strings.TrimSpace(l) == "" {
		return nil
	}
	cells := strings.Split(l, "\t")
	for i := range cells {
		cells[i] = strings.TrimSpace(cells[i])
	}
	if cells[0] == "" { // the header starts with an empty corner cell
		cells = cells[1:]
	}
	return cells
}

// headerDevices keeps the leading device names of the header (CPU Affinity etc. follow).
func headerDevices(cells []string) []string {
	var devs []string
	for _, c := range cells {
		if !deviceName.MatchString(c) {
			break
		}
		devs = append(devs, c)
	}
	return devs
}

func (t *TopoMatrix) readRows(lines []string) error {
	n := len(t.Devices)
	t.Links = make([][]string, n)
	for _, l := range lines {
		cells := topoCells(l)
		if len(cells) == 0 || !deviceName.MatchString(cells[0]) {
			if len(cells) > 0 && strings.HasPrefix(cells[0], "Legend") {
				break
			}
			continue
		}
		i := slices.Index(t.Devices, cells[0])
		if i < 0 {
			return fmt.Errorf("topo -m: row %s is not in the header", cells[0])
		}
		if len(cells) < n+1 {
			return fmt.Errorf("topo -m: row %s has %d links, want %d", cells[0], len(cells)-1, n)
		}
		for _, c := range cells[1 : n+1] {
			if !knownLink(c) {
				return fmt.Errorf("topo -m: row %s: unknown link type %q", cells[0], clip(c))
			}
		}
		t.Links[i] = cells[1 : n+1]
		t.readAffinity(cells[0], cells[n+1:])
	}
	for i, row := range t.Links {
		if row == nil {
			return fmt.Errorf("topo -m: no row for %s", t.Devices[i])
		}
	}
	return nil
}

func (t *TopoMatrix) readAffinity(dev string, rest []string) {
	if len(rest) > 0 && rest[0] != "" {
		t.CPUAffinity[dev] = rest[0]
	}
	if len(rest) > 1 && rest[1] != "" {
		t.NUMAAffinity[dev] = rest[1]
	}
}

// readNICLegend reads "  NIC0: mlx5_0" lines of the "NIC Legend:" block.
func (t *TopoMatrix) readNICLegend(lines []string) {
	in := false
	for _, l := range lines {
		s := strings.TrimSpace(l)
		if strings.HasPrefix(s, "NIC Legend") {
			in = true
			continue
		}
		if !in {
			continue
		}
		name, dev, ok := strings.Cut(s, ":")
		if ok && deviceName.MatchString(name) {
			t.NICs[name] = strings.TrimSpace(dev)
		}
	}
}

// Interconnect classes of a topology's GPU pairs.
const (
	InterconnectSingle        = "single"         // one GPU: nothing to connect
	InterconnectNVLinkAll     = "nvlink-all"     // every GPU pair has NVLink
	InterconnectNVLinkPartial = "nvlink-partial" // some pairs NVLink, others PCIe
	InterconnectPCIe          = "pcie"           // no NVLink at all
)

// GPUInterconnect classifies the GPU pairs of t and describes them: "all pairs NVLink NV18",
// "NVLink on 2 of 6 pairs (NV4), the others PCIe (SYS)", "PCIe only (PIX, SYS)".
func (t TopoMatrix) GPUInterconnect() (class, text string) {
	gpus := t.GPUs()
	if len(gpus) < 2 {
		return InterconnectSingle, "single GPU"
	}
	var nv, other []string
	pairs := 0
	for a := range gpus {
		for b := a + 1; b < len(gpus); b++ {
			pairs++
			l := t.Link(gpus[a], gpus[b])
			if IsNVLink(l) {
				nv = append(nv, l)
			} else {
				other = append(other, l)
			}
		}
	}
	switch {
	case len(nv) == pairs:
		return InterconnectNVLinkAll, "all pairs NVLink " + kinds(nv)
	case len(nv) == 0:
		return InterconnectPCIe, "PCIe only (" + kinds(other) + ")"
	}
	return InterconnectNVLinkPartial, fmt.Sprintf("NVLink on %d of %d pairs (%s), the others PCIe (%s)",
		len(nv), pairs, kinds(nv), kinds(other))
}

// kinds lists the distinct link types, sorted, comma-separated.
func kinds(links []string) string {
	u := slices.Clone(links)
	slices.Sort(u)
	return strings.Join(slices.Compact(u), ", ")
}
