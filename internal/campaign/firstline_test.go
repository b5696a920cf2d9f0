package campaign

import (
	"errors"
	"testing"
)

func TestFirstLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{errors.New("one line"), "one line"},
		{errors.New("first: detail\nsecond"), "first: detail"},
		{errors.New("server process exited: exit status 3; last lines of s.log:\n# llmscale: cmd\nTraceback\ntorch.OutOfMemoryError: CUDA out of memory\n\n"),
			"server process exited: exit status 3; last lines of s.log: … torch.OutOfMemoryError: CUDA out of memory"},
		{errors.New("server not ready after 3s; last lines of s.log:\n"), "server not ready after 3s; last lines of s.log"},
	}
	for _, tt := range tests {
		if got := firstLine(tt.err); got != tt.want {
			t.Errorf("firstLine(%q) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
