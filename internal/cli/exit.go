package cli

import (
	"errors"
	"fmt"
)

// Exit codes of llmscale; scripts may rely on them.
const (
	ExitOK            = 0
	ExitFailed        = 1   // the command ran, but something it ran failed (an experiment, every request)
	ExitUsage         = 2   // wrong flags or arguments
	ExitInvalidMatrix = 3   // the matrix file (or an override of it) is wrong
	ExitThresholds    = 4   // compare --fail-on: a threshold held (a regression) or could not be checked
	ExitInternal      = 70  // a bug: llmscale panicked
	ExitInterrupted   = 130 // stopped by Ctrl-C
)

// codedError carries an exit code and a hint to the top of Main.
type codedError struct {
	err  error
	code int
	hint string
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

// withCode gives err an exit code.
func withCode(err error, code int) error {
	if err == nil {
		return nil
	}
	var ce *codedError
	if errors.As(err, &ce) {
		return &codedError{err: ce.err, code: code, hint: ce.hint}
	}
	return &codedError{err: err, code: code}
}

// withHint adds what the user could do next.
func withHint(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	hint := fmt.Sprintf(format, args...)
	var ce *codedError
	if errors.As(err, &ce) {
		return &codedError{err: ce.err, code: ce.code, hint: hint}
	}
	return &codedError{err: err, code: ExitFailed, hint: hint}
}

// exitCode and hint read what withCode and withHint attached.
func exitCode(err error) (int, string) {
	var ce *codedError
	if errors.As(err, &ce) {
		return ce.code, ce.hint
	}
	return ExitFailed, ""
}
