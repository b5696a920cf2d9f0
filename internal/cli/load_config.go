package cli

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/llmscale/llmscale/internal/loadgen"
	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/spec"
)

// configFlags are the flags that may come with --config: where the output goes and which
// worker this process is. Every other flag sets the load, which the file gives.
var configFlags = []string{"config", "out", "force", "quiet", "worker", "worker-env", "traces", "traces-grpc", "traces-http"}

// configLoad reads the load of --config (a file, or - for stdin). Keys the file leaves out
// take the built-in defaults, not the environment's: the file is the whole load. A flag that
// sets the load as well is refused, naming both.
func (f loadFlags) configLoad(env Env, fs *pflag.FlagSet) (loadspec.Load, error) {
	var given []string
	fs.Visit(func(fl *pflag.Flag) {
		if !slices.Contains(configFlags, fl.Name) {
			given = append(given, "--"+fl.Name)
		}
	})
	if len(given) > 0 {
		return loadspec.Load{}, withHint(withCode(fmt.Errorf("%s and --config %s both set the load", strings.Join(given, ", "), f.config), ExitUsage),
			"put the setting in the file, or drop --config; with it, only %s may be given", strings.Join(configFlags[1:], ", --"))
	}
	r, name := env.Stdin, "(stdin)"
	if f.config != "-" {
		file, err := os.Open(env.path(f.config))
		if err != nil {
			return loadspec.Load{}, withCode(fmt.Errorf("--config: %w", err), ExitUsage)
		}
		defer file.Close()
		r, name = file, f.config
	}
	if r == nil {
		r = strings.NewReader("")
	}
	l, err := loadspec.Decode(io.LimitReader(r, 16<<20), name, defaultLoad(f.defaults))
	if err != nil {
		return l, withHint(withCode(err, ExitUsage), "docs/results.md#the-load-of-a-worker lists the keys")
	}
	return l, nil
}

// defaultLoad is the load a --config file starts from: the defaults of `llmscale load`'s
// flags, without a mode (the file must choose one).
func defaultLoad(d spec.Load) loadspec.Load {
	return loadspec.Load{API: loadspec.APICompletions, Targets: []string{DefaultHost}, Arrival: d.Arrival,
		Burstiness: d.Burstiness, PromptSet: "short", MaxTokens: loadgen.DefaultMaxTokens,
		IgnoreEOS: *d.IgnoreEOS, Seed: *d.Seed, Warmup: d.Warmup.D(), RunTime: d.RunTime.D(), Cooldown: d.Cooldown.D(),
		Timeout: d.Timeout.D(), StallTimeout: d.StallTimeout.D(), Grace: d.Grace.D(), Client: d.Client, WorkerCount: 1}
}
