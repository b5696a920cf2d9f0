package loadgen

import (
	"slices"
	"testing"

	"github.com/llmscale/llmscale/internal/pollhttp"
)

// clientsHere are the clients a test runs on, in order (all three when none are named),
// without io_uring where this kernel refuses it (too old, or a seccomp profile): the path
// is opt-in and the kernel's to give.
func clientsHere(t *testing.T, clients ...string) []string {
	t.Helper()
	if len(clients) == 0 {
		clients = []string{ClientNetHTTP, ClientEpoll, ClientIOURing}
	}
	if !slices.Contains(clients, ClientIOURing) {
		return clients
	}
	c, err := pollhttp.New(pollhttp.Options{Receive: pollhttp.ReceiveIOURing})
	if err == nil {
		c.Close()
		return clients
	}
	t.Logf("io_uring is not available here, its cases are left out: %v", err)
	return slices.DeleteFunc(slices.Clone(clients), func(c string) bool { return c == ClientIOURing })
}
