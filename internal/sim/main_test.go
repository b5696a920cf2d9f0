package sim

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if a server, handler or client goroutine outlives them.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
