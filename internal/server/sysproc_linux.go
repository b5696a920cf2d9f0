package server

import "syscall"

// sysProcAttr puts the server in its own process group and asks the kernel to send it SIGTERM
// if llmscale dies, even by SIGKILL; SIGTERM lets multi-process servers (vLLM) stop their
// workers.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
