package results

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// tempPattern names the temporary file of an atomic write of path: hidden, beside it, with the
// host and process that write it, so a later command can tell a leftover of a dead process
// from the file another live process is writing (several Slurm jobs share one tree).
func tempPattern(path string) string {
	return "." + filepath.Base(path) + ".tmp-" + tempOwner() + "-*"
}

func tempOwner() string {
	host, _ := os.Hostname()
	return safeHost(host) + "-" + strconv.Itoa(os.Getpid())
}

// safeHost keeps a host name to letters, digits and '.', so the owner parses back.
func safeHost(h string) string {
	h = strings.Map(func(r rune) rune {
		if r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '_'
	}, h)
	if h == "" {
		return "host"
	}
	return h
}

// StaleAge is how old a temporary file written on another host must be to count as left over:
// this host cannot ask whether that process is alive.
const StaleAge = 24 * time.Hour

// TempCleaner removes the temporary files that interrupted atomic writes left in a results
// tree (a kill -9, a crash, a node that went down). Host is this machine's name, Alive tells
// whether a process of this host runs, Now is the clock.
type TempCleaner struct {
	Host  string
	Alive func(pid int) bool
	Now   func() time.Time
}

// NewTempCleaner is the cleaner of this machine.
func NewTempCleaner() TempCleaner {
	host, _ := os.Hostname()
	return TempCleaner{Host: safeHost(host), Alive: processAlive, Now: time.Now}
}

// Clean removes every leftover temporary file under root and returns their paths. A missing
// root is not an error: nothing was left there.
func (c TempCleaner) Clean(root string) ([]string, error) {
	var removed []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() || !isTemp(d.Name()) || !c.stale(path, d) {
			return nil
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		removed = append(removed, path)
		return nil
	})
	return removed, err
}

func isTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, ".tmp-")
}

// stale tells whether the temp file's writer is gone: a dead process of this host, or any
// file older than StaleAge (another host's, or one of an older llmscale without an owner).
func (c TempCleaner) stale(path string, d fs.DirEntry) bool {
	host, pid, ok := parseOwner(d.Name())
	if ok && host == c.Host {
		return !c.Alive(pid) // alive: the file is being written now
	}
	info, err := d.Info()
	if err != nil {
		return false
	}
	return c.Now().Sub(info.ModTime()) > StaleAge
}

// parseOwner reads host and pid from ".NAME.tmp-HOST-PID-RANDOM".
func parseOwner(name string) (host string, pid int, ok bool) {
	_, owner, found := strings.Cut(name, ".tmp-")
	if !found {
		return "", 0, false
	}
	parts := strings.Split(owner, "-")
	if len(parts) < 3 {
		return "", 0, false
	}
	pid, err := strconv.Atoi(parts[len(parts)-2])
	if err != nil || pid <= 0 {
		return "", 0, false
	}
	return strings.Join(parts[:len(parts)-2], "-"), pid, true
}
