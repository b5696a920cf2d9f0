package results

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestTempCleaner: leftovers of dead writers are removed, files that live writers are still
// writing stay, and so does everything that is not a temporary file.
func TestTempCleaner(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	files := map[string]time.Time{
		"figs/.speedup.svg.tmp-node1-100-123":          now,                    // this host, dead: removed
		"raw/e1/.requests.parquet.tmp-node1-200-9":     now,                    // this host, alive: kept
		"raw/e1/.gpu.parquet.tmp-node2-100-1":          now.Add(-time.Hour),    // other host, recent: kept
		"raw/e2/.gpu.parquet.tmp-node2-100-2":          now.Add(-2 * StaleAge), // other host, old: removed
		"agg/.summary_metrics.csv.tmp-123456":          now.Add(-2 * StaleAge), // no owner (older llmscale), old: removed
		"agg/.summary_metrics.csv.tmp-654321":          now,                    // no owner, recent: kept
		"raw/e1/requests.parquet":                      now.Add(-2 * StaleAge), // a result: kept
		"raw/e1/.hidden-note":                          now.Add(-2 * StaleAge), // not a temp: kept
		"figs/.speedup.svg.tmp-node1-notapid-1":        now,                    // unreadable owner, recent: kept
		"figs/.throughput.svg.tmp-node-1-has-dashes-1": now,                    // recent, host does not match: kept
	}
	for name, mod := range files {
		path := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mod, mod); err != nil {
			t.Fatal(err)
		}
	}
	c := TempCleaner{Host: "node1", Alive: func(pid int) bool { return pid == 200 }, Now: func() time.Time { return now }}
	removed, err := c.Clean(root)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range removed {
		rel, _ := filepath.Rel(root, p)
		got = append(got, rel)
	}
	slices.Sort(got)
	want := []string{"agg/.summary_metrics.csv.tmp-123456", "figs/.speedup.svg.tmp-node1-100-123", "raw/e2/.gpu.parquet.tmp-node2-100-2"}
	if !slices.Equal(got, want) {
		t.Errorf("removed %v, want %v", got, want)
	}
	for name := range files {
		_, err := os.Stat(filepath.Join(root, name))
		if gone := os.IsNotExist(err); gone != slices.Contains(want, name) {
			t.Errorf("%s: removed %v, want %v", name, gone, !gone)
		}
	}
	if removed, err := c.Clean(filepath.Join(root, "missing")); err != nil || len(removed) != 0 {
		t.Errorf("missing root: %v, %v", removed, err)
	}
}

// TestAtomicTempNamesItsOwner: a temporary file carries this host and process, which is what
// lets the cleaner leave it alone while it is written.
func TestAtomicTempNamesItsOwner(t *testing.T) {
	t.Parallel()
	f, err := CreateAtomic(filepath.Join(t.TempDir(), "x.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Abort()
	host, pid, ok := parseOwner(filepath.Base(f.Name()))
	c := NewTempCleaner()
	if !ok || host != c.Host || pid != os.Getpid() {
		t.Errorf("temp %s: owner %q %d %v, want %q %d", f.Name(), host, pid, ok, c.Host, os.Getpid())
	}
	if removed, _ := c.Clean(filepath.Dir(f.Name())); len(removed) != 0 {
		t.Errorf("the cleaner removed a file being written: %v", removed)
	}
}
