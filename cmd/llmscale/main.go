// Command llmscale runs scaling experiments on LLM inference servers; see internal/cli.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/llmscale/llmscale/internal/cli"
)

// main wires the process in: the first Ctrl-C (or SIGTERM) cancels the context, so commands
// stop, keep what they measured and clean up; the second exits at once.
func main() {
	ctx, cancel := context.WithCancel(context.Background())
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-signals
		fmt.Fprintln(os.Stderr, "llmscale: stopping: finishing what is running, writing its files, stopping any server (Ctrl-C again to exit at once)")
		cancel()
		<-signals
		os.Exit(cli.ExitInterrupted)
	}()
	dir, _ := os.Getwd()
	exe, _ := os.Executable()
	host, _ := os.Hostname()
	os.Exit(cli.Main(ctx, cli.Env{Args: os.Args[1:], Getenv: os.Getenv, Dir: dir, Executable: exe,
		Environ: os.Environ(), Hostname: host, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}))
}
