package cli

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// Version is set at build time with -ldflags "-X github.com/llmscale/llmscale/internal/cli.Version=…";
// otherwise it says "dev" and, when the build recorded it, the git commit.
var Version = "dev"

// version is Version with the commit the binary was built from, for provenance.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return Version
	}
	rev, dirty := "", ""
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev == "" {
		return Version
	}
	return fmt.Sprintf("%s (commit %.12s%s)", Version, rev, dirty)
}

// Main runs llmscale with env and returns the process exit code. It never panics: a panic is
// reported as a bug with its own exit code.
func Main(ctx context.Context, env Env) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(env.Stderr, "llmscale: internal error (a bug, please report it): %v\n%s", r, debug.Stack())
			code = ExitInternal
		}
	}()
	root := newRoot(env)
	root.SetArgs(env.Args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	code, hint := exitCode(err)
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		code = ExitInterrupted
	}
	fmt.Fprintf(env.Stderr, "llmscale: %v\n", err)
	if hint != "" {
		fmt.Fprintf(env.Stderr, "hint: %s\n", hint)
	}
	return code
}

func newRoot(env Env) *cobra.Command {
	root := &cobra.Command{
		Use:   "llmscale",
		Short: "Scaling experiments on LLM inference servers, and why throughput stops growing with GPUs",
		Long: `llmscale runs scaling experiments on LLM inference servers (vLLM first, any
OpenAI-compatible server) and explains why throughput does not grow linearly with GPUs.

The pipeline: plan → run → aggregate → fit → report. "llmscale run" does all of it;
every stage reads and writes files under results/ and can be re-run alone.`,
		Version:       version(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	root.SetIn(env.Stdin)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return withHint(withCode(err, ExitUsage), "see `%s --help`", c.CommandPath())
	})
	root.AddCommand(newPlanCmd(env))
	root.AddCommand(newRunCmd(env))
	root.AddCommand(newSingleCmd(env))
	root.AddCommand(newGPUProbeCmd(env))
	root.AddCommand(newLoadCmd(env))
	root.AddCommand(newSimCmd(env))
	root.AddCommand(newModelCmd(env))
	root.AddCommand(newAggregateCmd(env))
	root.AddCommand(newFitCmd(env))
	root.AddCommand(newDiagnoseCmd(env))
	root.AddCommand(newReportCmd(env))
	// An unknown subcommand and wrong positional arguments are usage errors, as wrong flags are.
	root.Args = func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		if s := c.SuggestionsFor(args[0]); len(s) > 0 {
			return usageError(c, "unknown command %q (did you mean %q?)", args[0], s[0])
		}
		return usageError(c, "unknown command %q", args[0])
	}
	root.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
	root.SetHelpCommand(helpCmd(root))
	root.SuggestionsMinimumDistance = 2
	for _, c := range root.Commands() {
		if check := c.Args; check != nil {
			c.Args = func(c *cobra.Command, args []string) error {
				if err := check(c, args); err != nil {
					return usageError(c, "%v", err)
				}
				return nil
			}
		}
	}
	return root
}

// usageError is for wrong positional arguments.
func usageError(c *cobra.Command, format string, args ...any) error {
	return withHint(withCode(fmt.Errorf(format, args...), ExitUsage), "see `%s --help`", c.CommandPath())
}

// helpCmd is `llmscale help [COMMAND]`; unlike cobra's own, a command it does not know is a
// usage error (exit 2), not a help page and exit 0.
func helpCmd(root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		RunE: func(c *cobra.Command, args []string) error {
			cmd, rest, err := root.Find(args)
			if err != nil || cmd == nil || len(rest) > 0 {
				return usageError(root, "help: unknown command %q", strings.Join(args, " "))
			}
			return cmd.Help()
		},
	}
}
