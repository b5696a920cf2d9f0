package gpu

import (
	"os/exec"
	"syscall"
)

// setDeathSignal makes the child die with llmscale, even if llmscale is killed.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
