// Package cli is llmscale's command line: subcommands, configuration precedence, exit codes
// and the hints users see. It is the only package that talks to the user.
package cli

import (
	"io"
	"path/filepath"
	"time"
)

// Env is everything the command line takes from the process; main builds it from os, tests
// build it from buffers. Nothing below cli reads os.Args, os.Getenv or the standard streams.
type Env struct {
	Args   []string
	Getenv func(string) string
	Dir    string // working directory: .env and relative paths start here
	Stdin  io.Reader
	Stdout io.Writer // data
	Stderr io.Writer // progress and messages
	Now    func() time.Time
	// Executable is the path of the llmscale binary, for commands that start copies of
	// themselves (load workers, simulator processes, Slurm jobs).
	Executable string
	// Environ is the whole environment, which servers and workers start with.
	Environ  []string
	Hostname string
}

// path resolves p against the working directory.
func (e Env) path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(e.Dir, p)
}

func (e Env) now() time.Time {
	if e.Now == nil {
		return time.Now()
	}
	return e.Now()
}
