//go:build !linux

package server

import "syscall"

// sysProcAttr puts the server in its own process group (no parent-death signal off Linux).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
