// Package golden compares test output with a golden file in testdata/, or rewrites the file
// when the test binary runs with -update (each package registers its own flag).
package golden

import (
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Check fails t when got differs from the file at path; with update it writes got there first.
func Check(t testing.TB, path string, got []byte, update bool) {
	t.Helper()
	if update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got; run go test -run %s -update if the change is right):\n%s", path, t.Name(), diff)
	}
}
