package host

import (
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// TicksPerSecond is the kernel's USER_HZ, the unit of /proc's CPU times: 100 on every Linux
// architecture Go supports.
const TicksPerSecond = 100

// Reader reads snapshots from a proc file system.
type Reader struct {
	FS fs.FS // nil: the machine's /proc
}

func (r Reader) fsys() fs.FS {
	if r.FS == nil {
		return os.DirFS("/proc")
	}
	return r.FS
}

// Snapshot reads /proc/stat and every process's stat. Processes that vanish meanwhile, or
// whose stat cannot be read, are left out; only /proc/stat is required.
func (r Reader) Snapshot() (Snapshot, error) {
	fsys := r.fsys()
	data, err := fs.ReadFile(fsys, "stat")
	if err != nil {
		return Snapshot{}, err
	}
	cpu, err := ParseStat(data)
	if err != nil {
		return Snapshot{}, err
	}
	snap := Snapshot{CPU: cpu, Procs: map[int]Proc{}}
	entries, _ := fs.ReadDir(fsys, ".")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil || !e.IsDir() {
			continue
		}
		b, err := fs.ReadFile(fsys, filepath.Join(e.Name(), "stat"))
		if err != nil {
			continue
		}
		if p, err := ParseProcStat(b); err == nil {
			snap.Procs[p.PID] = p
		}
	}
	return snap, nil
}
