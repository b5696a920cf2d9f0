package cli

import (
	"fmt"
	"net/url"
	"regexp"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/llmscale/llmscale/internal/matrix"
	"github.com/llmscale/llmscale/internal/spec"
)

// singleBase is the matrix single starts from without --matrix: the seed's run_single.sh
// launched vLLM.
const singleBase = "campaign: single\nengine: vllm\n"

// singleFlag maps one of single's flags onto a matrix key.
type singleFlag struct {
	name, key, usage string
}

func singleFlags() []singleFlag {
	return []singleFlag{
		{"engine", "engine", "vllm, sglang, llamacpp, command, external or sim ($LLMSCALE_ENGINE; default vllm, as run_single.sh)"},
		{"model", "model", "model the server loads ($VLLM_MODEL)"},
		{"host", "host", "endpoint of an already running server, for --engine external ($VLLM_HOST)"},
		{"api", "api", "completions or chat ($LLMSCALE_API)"},
		{"users", "factors.users", "closed-loop users ($USERS)"},
		{"spawn-rate", "load.spawn_rate", "users started per second ($SPAWN)"},
		{"concurrency", "factors.concurrency", "requests in flight, instead of users"},
		{"rate", "factors.rate", "open-loop requests/s, instead of users"},
		{"run-time", "load.run_time", "measured window, e.g. 3m ($RUN_TIME)"},
		{"warmup", "load.warmup", "warm-up before the window"},
		{"cooldown", "load.cooldown", "cool-down after the window"},
		{"prompts", "factors.prompts", "prompt file, set name or random:IN:OUT ($PROMPTS_FILE)"},
		{"max-tokens", "factors.max_tokens", "output tokens per request ($MAX_TOKENS)"},
		{"tp", "factors.tp", "--tensor-parallel-size ($TP)"},
		{"dp", "factors.dp", "--data-parallel-size ($DP)"},
		{"pp", "factors.pp", "--pipeline-parallel-size"},
		{"batch-size", "factors.batch_size", "--max-num-seqs ($BATCH_SIZE)"},
		{"mbt", "factors.mbt", "--max-num-batched-tokens ($MBT)"},
		{"port", "server.port", "port of the server (default: VLLM_HOST's port, else the engine's)"},
	}
}

func newSingleCmd(env Env) *cobra.Command {
	var mf matrixFlags
	var rf runFlags
	c := &cobra.Command{
		Use:   "single [EXP_ID]",
		Short: "Run one experiment configured by flags or the seed's environment variables",
		Long: `single runs one experiment — start the server with its parallelism and batch caps, wait
until it is healthy, sample the GPUs and /metrics, drive the load, collect, clean up — as the
seed's scripts/run_single.sh did, with the same environment variables (VLLM_MODEL, VLLM_HOST,
USERS, SPAWN, RUN_TIME, PROMPTS_FILE, MAX_TOKENS, TP, DP, BATCH_SIZE, MBT). Flags override them.
EXP_ID names the experiment's folder under results/raw/ (default: an id made from the settings).
With --matrix, the matrix file gives the defaults and every factor must have one level.`,
		Example: `  export VLLM_MODEL=NousResearch/Meta-Llama-3-8B-Instruct USERS=100 SPAWN=20 RUN_TIME=3m \
         PROMPTS_FILE=config/prompts_medium.txt MAX_TOKENS=128 TP=1 DP=1 BATCH_SIZE=32 MBT=4096
  llmscale single 2025-07-19_manual_G1_U100_medium
  LLMSCALE_ENGINE=sim llmscale single --run-time 20s`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			s, err := newSettings(env)
			if err != nil {
				return err
			}
			l, p, err := s.singlePlan(mf, c.Flags())
			if err != nil {
				return err
			}
			if len(args) == 1 {
				if err := renameSingle(&p, args[0]); err != nil {
					return usageError(c, "%v", err)
				}
			}
			rf.executor = "local"
			return runCampaign(c.Context(), env, s, l, p, rf)
		},
	}
	mf.register(c.Flags())
	rf.register(c.Flags())
	for _, f := range singleFlags() {
		c.Flags().String(f.name, "", f.usage)
	}
	registerSingleVLLM(c.Flags())
	return c
}

// singlePlan builds the one-experiment plan: defaults < --matrix (or the vLLM base) < .env <
// environment < flags.
func (s settings) singlePlan(mf matrixFlags, fs *pflag.FlagSet) (*spec.Loaded, matrix.Plan, error) {
	flags := spec.Overlay{Dir: s.env.Dir}
	for _, f := range singleFlags() {
		if fl := fs.Lookup(f.name); fl != nil && fl.Changed {
			flags.Settings = append(flags.Settings, spec.Setting{Key: f.key, Value: fl.Value.String(),
				From: "--" + f.name, Path: f.key == "factors.prompts"})
		}
	}
	vllm, err := singleVLLMSettings(fs)
	if err != nil {
		return nil, matrix.Plan{}, err
	}
	flags.Settings = append(flags.Settings, vllm...)
	sets, err := setSettings(mf.sets)
	if err != nil {
		return nil, matrix.Plan{}, err
	}
	flags.Settings = append(flags.Settings, sets...)
	if port := hostPort(s.lookup("VLLM_HOST")); port != "" && !fs.Changed("port") {
		// run_single.sh started the server where VLLM_HOST pointed.
		flags.Settings = append([]spec.Setting{{Key: "server.port", Value: port, From: "VLLM_HOST's port"}}, flags.Settings...)
	}
	overlays := []spec.Overlay{
		spec.EnvOverlay(func(n string) string { return s.dotenv[n] }, ".env", s.env.Dir),
		spec.EnvOverlay(s.env.Getenv, "environment variable", s.env.Dir), flags,
	}
	var l *spec.Loaded
	var p matrix.Plan
	if mf.file != "" {
		l, p, err = matrix.PlanFile(s.env.path(mf.file), mf.file, overlays...)
	} else {
		l, p, err = matrix.PlanBytes([]byte(singleBase), "single", s.env.path("config"), overlays...) // bare prompt set names are config/prompts_N.txt
	}
	switch {
	case err != nil && mf.file != "":
		return nil, p, matrixError(err, mf.file)
	case err != nil:
		// No matrix file: the settings came from flags and the seed's variables.
		return nil, p, withHint(withCode(err, ExitInvalidMatrix), "single takes its settings from flags (--model, --users, "+
			"--prompts, …) and the seed's variables (VLLM_MODEL, USERS, PROMPTS_FILE, …): see `llmscale single --help`")
	}
	if len(p.Experiments) != 1 {
		return nil, p, withHint(withCode(fmt.Errorf("single runs one experiment; these settings give %d (%s, …)",
			len(p.Experiments), p.Experiments[0].ID), ExitUsage), "give one level per factor (e.g. USERS=100, not USERS=10,100), or use llmscale run")
	}
	return l, p, nil
}

// hostPort is the port of a URL such as http://localhost:8000, or "".
func hostPort(host string) string {
	u, err := url.Parse(host)
	if err != nil {
		return ""
	}
	return u.Port()
}

// renameSingle gives the experiment the id the user chose.
func renameSingle(p *matrix.Plan, id string) error {
	if !validID.MatchString(id) {
		return fmt.Errorf("EXP_ID %q: use letters, digits, '.', '-' and '_' only", id)
	}
	p.Experiments[0].ID = id
	return nil
}

var validID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
