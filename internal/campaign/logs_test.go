package campaign

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCopyLogs: each server log's part written during the experiment goes to server.log; a
// log that cannot be read is named there and in the error, and the others are still copied.
func TestCopyLogs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, missing := filepath.Join(dir, "a.log"), filepath.Join(dir, "gone.log")
	if err := os.WriteFile(a, []byte("before\nduring\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "server.log")
	err := copyLogs(&serverSet{logs: []string{a, missing}}, []int64{int64(len("before\n")), 0}, out)
	if err == nil || !strings.Contains(err.Error(), "gone.log") {
		t.Errorf("err = %v, want one naming gone.log", err)
	}
	got, rerr := os.ReadFile(out)
	if rerr != nil {
		t.Fatal(rerr)
	}
	if s := string(got); !strings.Contains(s, "==> a.log <==\nduring\n") || strings.Contains(s, "before") ||
		!strings.Contains(s, "==> gone.log <==\n(open ") {
		t.Errorf("server.log:\n%s", s)
	}
	if err := copyLogs(&serverSet{logs: []string{a}}, []int64{0}, out); err != nil {
		t.Errorf("one readable log: %v", err)
	}
}
