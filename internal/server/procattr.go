package server

import "syscall"

// ProcAttr is what helper processes of llmscale (load workers) start with, as servers do:
// their own process group, so a terminal's Ctrl-C reaches only llmscale, which then stops
// them in order; and, on Linux, SIGTERM from the kernel if llmscale dies.
func ProcAttr() *syscall.SysProcAttr { return sysProcAttr() }
