package spec

import (
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/tokenizer"
	"github.com/llmscale/llmscale/internal/workload"
)

// Validate reports every semantic problem of a spec with defaults applied. Positions come
// from the file (or the override that set the value).
func (l *Loaded) Validate() []Problem {
	v := validator{spec: &l.Spec, at: l}
	v.top()
	v.tokenizer() // first: the prompts are counted with it
	v.factors()
	v.load()
	v.sweep()
	v.server()
	return v.problems
}

type validator struct {
	spec     *Spec
	at       *Loaded
	tok      workload.Counter // the matrix's tokenizer, nil when it has none or it failed to load
	problems []Problem
}

func (v *validator) add(path, msg, hint string) {
	v.problems = append(v.problems, v.at.ProblemAt(path, msg, hint))
}

func (v *validator) oneOf(path, got string, allowed ...string) {
	if !slices.Contains(allowed, got) {
		v.add(path, fmt.Sprintf("unknown value %q", got), "use one of: "+strings.Join(allowed, ", "))
	}
}

func (v *validator) top() {
	s := v.spec
	v.oneOf("$.engine", s.Engine, EngineVLLM, EngineSGLang, EngineLlamaCpp, EngineCommand, EngineExternal, EngineSim)
	v.oneOf("$.api", string(s.API), string(loadspec.APICompletions), string(loadspec.APIChat))
	v.oneOf("$.executor", s.Executor, "local", "slurm")
	if s.Model == "" && s.Engine != EngineExternal {
		v.add("$.model", "no model is given", "set model: to the model the server loads, or VLLM_MODEL")
	}
	if s.Engine == EngineExternal {
		if s.Host == "" {
			v.add("$.host", "engine external needs the endpoint's address", "set host: http://HOST:PORT or VLLM_HOST")
		} else if u, err := url.Parse(s.Host); err != nil || u.Scheme == "" || u.Host == "" {
			v.add("$.host", fmt.Sprintf("%q is not a URL", s.Host), "write it like http://127.0.0.1:8000")
		}
	}
	if s.Engine == EngineCommand && len(s.Server.Command) == 0 {
		v.add("$.server.command", "engine command needs server.command",
			`give the argv, e.g. ["my-server", "--port", "{port}", "--tp", "{tp}"]`)
	}
	if s.Repeats < 1 {
		v.add("$.repeats", "must be at least 1", "")
	}
	if s.MaxExperiments < 1 {
		v.add("$.max_experiments", fmt.Sprintf("must be at least 1, got %d", s.MaxExperiments), "leave it out for the default cap")
	}
	if !strings.ContainsFunc(s.Campaign, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) {
		v.add("$.campaign", "needs at least one letter or digit", "")
	}
}

func (v *validator) factors() {
	f := v.spec.Factors
	for _, c := range []struct {
		name  string
		vals  []int
		least int
	}{
		{"gpus", f.GPUs, 1}, {"tp", f.TP, 1}, {"dp", f.DP, 1}, {"pp", f.PP, 1},
		{"users", f.Users, 1}, {"concurrency", f.Concurrency, 1}, {"sweep", f.Sweep, 1}, {"max_tokens", f.MaxTokens, 1},
		{"batch_size", f.BatchSize, 1}, {"mbt", f.MBT, 1},
	} {
		intLevels(v, "$.factors."+c.name, c.vals, c.least)
	}
	for i, r := range f.Rate {
		if r <= 0 {
			v.add(fmt.Sprintf("$.factors.rate[%d]", i), "a rate must be above 0 requests/s", "")
		}
	}
	v.loadModes()
	v.prompts()
	v.pipeline()
	for flag := range f.ServerArgs {
		if !strings.HasPrefix(flag, "-") {
			v.add("$.factors.server_args", fmt.Sprintf("%q is not a flag", flag), `write server flags with their dashes, e.g. "--enable-prefix-caching"`)
		}
	}
	for name, levels := range f.Load {
		for i, l := range levels {
			at := fmt.Sprintf("$.factors.load.%s[%d]", name, i)
			if err := applyLoadLevel(&Load{}, name, string(l)); err != nil {
				v.add(at, err.Error(), "")
			} else if msg := zeroLevel(name, string(l)); msg != "" {
				v.add(at, msg, "")
			}
		}
	}
}

// loadModes refuses a matrix that gives two load modes, naming both: users, concurrency,
// rate and sweep each decide the load on their own.
func (v *validator) loadModes() {
	f := v.spec.Factors
	given := map[string]int{"users": len(f.Users), "concurrency": len(f.Concurrency), "rate": len(f.Rate), "sweep": len(f.Sweep)}
	var set []string
	for _, m := range LoadModeFactors() {
		if given[m] > 0 {
			set = append(set, "factors."+m)
		}
	}
	if len(set) > 1 {
		v.add("$.factors."+strings.TrimPrefix(set[1], "factors."), fmt.Sprintf("%s and %s are exclusive load modes: both set the load",
			set[0], set[1]), loadModeHint)
	}
}

// sweep checks the settings a sweep needs: its synchronous point is one request in flight,
// which several workers cannot share, and its throughput point needs more than one.
func (v *validator) sweep() {
	s := v.spec
	if len(s.Factors.Sweep) == 0 {
		return
	}
	if s.Load.Workers > 1 {
		v.add("$.load.workers", fmt.Sprintf("load.workers %d and factors.sweep cannot go together: a sweep runs in one worker "+
			"(its synchronous point is one request at a time)", s.Load.Workers), "leave load.workers out, or give users, concurrency or rate levels instead of the sweep")
	}
	if s.Load.SweepMaxConcurrency < 2 {
		v.add("$.load.sweep_max_concurrency", fmt.Sprintf("must be at least 2, got %d", s.Load.SweepMaxConcurrency),
			"the maximum-throughput point needs many requests in flight; leave it out for 256")
	}
	if _, ok := s.Factors.Load["workers"]; ok {
		v.add("$.factors.load.workers", "factors.load workers levels and factors.sweep cannot go together: a sweep runs in one worker", "")
	}
}

// pipeline refuses pipeline parallelism where the engine would drop it: the experiment would
// be recorded as PP2 while the server ran without it.
func (v *validator) pipeline() {
	s := v.spec
	for i, pp := range s.Factors.PP {
		if pp <= 1 {
			continue
		}
		at := fmt.Sprintf("$.factors.pp[%d]", i)
		switch {
		case s.Engine == EngineSim, s.Engine == EngineLlamaCpp, s.Engine == EngineExternal:
			v.add(at, fmt.Sprintf("engine %s cannot apply pipeline parallelism (pp %d)", s.Engine, pp),
				"remove pp levels above 1, or use engine vllm or sglang")
		case s.Engine == EngineCommand && !slices.ContainsFunc(s.Server.Command, func(a string) bool { return strings.Contains(a, "{pp}") }):
			v.add(at, fmt.Sprintf("server.command has no {pp} placeholder, so pp %d would not reach the server", pp),
				"pass it in the command, e.g. \"--pipeline-parallel-size\", \"{pp}\"")
		default:
			continue
		}
		return
	}
}

func intLevels(v *validator, path string, vals []int, least int) {
	seen := map[int]bool{}
	for i, x := range vals {
		at := fmt.Sprintf("%s[%d]", path, i)
		if x < least {
			v.add(at, fmt.Sprintf("must be at least %d, got %d", least, x), "")
		}
		if seen[x] {
			v.add(at, fmt.Sprintf("level %d is listed twice", x), "remove the repeat")
		}
		seen[x] = true
	}
}

func (v *validator) prompts() {
	s := v.spec
	for i, level := range s.Factors.Prompts {
		src, err := workload.Resolve(level, s.PromptSets, s.Dir)
		if err == nil {
			err = v.promptContent(src, fmt.Sprintf("$.factors.prompts[%d]", i))
		}
		if err != nil {
			path := fmt.Sprintf("$.factors.prompts[%d]", i)
			if _, ok := s.PromptSets[level]; ok {
				path = "$.prompt_sets." + level
			}
			if !v.at.sets("$.factors.prompts") {
				// The default prompt set: no line of the file is at fault.
				v.problems = append(v.problems, Problem{Path: "$.factors.prompts", Msg: fmt.Sprintf(
					"not given, so the default set %q is used: %v", level, err),
					Hint: `give factors.prompts, e.g. ["random:512:128"]`})
				continue
			}
			v.add(path, err.Error(), "")
		}
	}
}

// promptContent reads a prompt set as the run will, so that an empty, binary or non-UTF-8
// file fails here and not after a server has started, and flags prompts longer than the
// model's context where the matrix says what the context is.
func (v *validator) promptContent(src workload.Source, path string) error {
	longest, err := workload.Check(src, v.tok)
	if err != nil {
		return err
	}
	ctx, flag := contextLength(v.spec)
	if ctx > 0 && longest > ctx {
		counted := fmt.Sprintf("about %d tokens", longest)
		if v.tok != nil {
			counted = fmt.Sprintf("%d tokens (counted by %s)", longest, v.spec.Tokenizer)
		}
		v.add(path, fmt.Sprintf("%s holds a prompt of %s, longer than the model's context (%s %d)",
			promptName(src), counted, flag, ctx), "raise the context, or use shorter prompts: the server would refuse these requests")
	}
	return nil
}

// contextLength is the context the matrix gives the server (vLLM's --max-model-len,
// llama.cpp's --ctx-size) in server.extra_args, or 0 when it does not say.
func contextLength(s *Spec) (int, string) {
	args := s.Server.ExtraArgs
	for i, a := range args {
		for _, flag := range []string{"--max-model-len", "--ctx-size", "--context-length"} {
			value, ok := "", false
			if a == flag && i+1 < len(args) {
				value, ok = args[i+1], true
			} else if v, found := strings.CutPrefix(a, flag+"="); found {
				value, ok = v, true
			}
			if n, err := strconv.Atoi(value); ok && err == nil && n > 0 {
				return n, flag
			}
		}
	}
	return 0, ""
}

func (v *validator) load() {
	l := v.spec.Load
	if l.SpawnRate < 0 {
		v.add("$.load.spawn_rate", "must not be negative", "0 starts every user at once")
	}
	if l.ConnectRate < 0 {
		v.add("$.load.connect_rate", "must not be negative", "connections opened per second before a closed loop starts; 0 opens none ahead")
	}
	switch {
	case l.StartRamp < 0:
		v.add("$.load.start_ramp", "must not be negative", "the time a burst start's first requests are spread over, e.g. 1s")
	case l.StartRamp > 0 && l.SpawnRate > 0:
		v.add("$.load.start_ramp", fmt.Sprintf("%v conflicts with $.load.spawn_rate %v: both say how users start", l.StartRamp.D(), l.SpawnRate),
			"give one: spawn_rate starts users one by one, start_ramp spreads them over a time")
	}
	for _, d := range []struct {
		path string
		v    Duration
		hint string
	}{
		{"$.load.run_time", l.RunTime, "the measured window, e.g. 3m"},
		{"$.load.timeout", l.Timeout, "the longest a request may take, e.g. 10m; leave it out for the default"},
		{"$.load.stall_timeout", l.StallTimeout, "the longest silence in a stream, e.g. 1m; leave it out for the default"},
	} {
		if d.v <= 0 {
			v.add(d.path, fmt.Sprintf("must be above 0, got %v", d.v.D()), d.hint)
		}
	}
	v.oneOf("$.load.arrival", l.Arrival, "poisson", "gamma", "constant")
	v.oneOf("$.load.client", l.Client, "auto", "net/http", "epoll")
	if l.Burstiness <= 0 {
		v.add("$.load.burstiness", "must be above 0", "1 is Poisson; below 1 is burstier")
	}
	if l.MaxInflight < 0 {
		v.add("$.load.max_inflight", "must not be negative", "0 means no cap")
	}
	if l.Workers < 1 {
		v.add("$.load.workers", "must be at least 1", "")
	}
	if l.VocabSize != nil && *l.VocabSize < 2 {
		v.add("$.load.vocab_size", fmt.Sprintf("%d is not a vocabulary size", *l.VocabSize),
			"give the model's vocabulary size, or leave it out to take the server's")
	}
	for _, n := range append(append([]int(nil), v.spec.Factors.Users...), v.spec.Factors.Concurrency...) {
		if l.Workers > 1 && n < l.Workers {
			v.add("$.load.workers", fmt.Sprintf("%d workers cannot share %d users (or requests in flight)", l.Workers, n),
				"each worker needs at least one: lower load.workers or drop the smallest level")
			break
		}
	}
}

// tokenizer reads the matrix's tokenizer as the run will, so that a missing, malformed or
// unsupported file fails at plan time, and refuses a load.vocab_size that contradicts it.
func (v *validator) tokenizer() {
	s := v.spec
	if s.Tokenizer == "" {
		if v.at.sets("$.tokenizer") {
			v.add("$.tokenizer", "the path is empty", "name the model's tokenizer.json (or its folder) or a tiktoken file, or leave tokenizer out to count ~4 letters a token")
		}
		return
	}
	tok, err := tokenizer.Load(s.TokenizerPath())
	if err != nil {
		v.add("$.tokenizer", err.Error(), "give a Hugging Face tokenizer.json with a BPE, Unigram or WordPiece model (or its folder), "+
			"or a tiktoken rank file named like its encoding (cl100k_base.tiktoken); docs/datasets.md lists what is supported")
		return
	}
	v.tok = tok
	if vs := s.Load.VocabSize; vs != nil && *vs != tok.VocabSize() {
		v.add("$.load.vocab_size", fmt.Sprintf("%d disagrees with tokenizer %s, a vocabulary of %d tokens", *vs, s.Tokenizer, tok.VocabSize()),
			"leave load.vocab_size out: the tokenizer's vocabulary bounds the token ids")
	}
}

func (v *validator) server() {
	sv := v.spec.Server
	if sv.Port < 0 || sv.Port > 65535 {
		v.add("$.server.port", fmt.Sprintf("%d is not a TCP port", sv.Port), "")
	}
	if g := sv.GPUMemoryUtilization; g <= 0 || g > 1 {
		v.add("$.server.gpu_memory_utilization", fmt.Sprintf("%g is not a fraction in (0, 1]", g), "")
	}
	if sv.Port == 0 && v.spec.Engine != EngineSim && v.spec.Engine != EngineExternal {
		v.add("$.server.port", "0 is not a port a server can be reached on",
			"give the port the server listens on, or leave server.port out for 8000")
	}
	if sv.StartupTimeout <= 0 {
		v.add("$.server.startup_timeout", fmt.Sprintf("must be above 0, got %v", sv.StartupTimeout.D()),
			"leave it out for the engine's default")
	}
	if sv.Sim.APIServerCount < 1 {
		v.add("$.server.sim.api_server_count", fmt.Sprintf("must be at least 1, got %d", sv.Sim.APIServerCount), "")
	}
	if v.spec.Telemetry.Interval <= 0 {
		v.add("$.telemetry.interval", fmt.Sprintf("must be above 0, got %v", v.spec.Telemetry.Interval.D()), "e.g. 1s")
	}
	if sv.Retries < 0 {
		v.add("$.server.retries", "must not be negative", "")
	}
	v.oneOf("$.server.sim.interconnect", sv.Sim.Interconnect, "nvlink", "xgmi", "pcie")
	if sv.Sim.Speedup <= 0 {
		v.add("$.server.sim.speedup", "must be above 0", "")
	}
	v.oneOf("$.telemetry.gpu", v.spec.Telemetry.GPU, "auto", "nvidia-smi", "nvml", "dcgm", "none")
	if v.spec.Telemetry.GPU == "dcgm" && v.spec.Telemetry.DCGMURL == "" {
		v.add("$.telemetry.dcgm_url", "telemetry.gpu dcgm needs the exporter's URL", "e.g. http://127.0.0.1:9400/metrics")
	}
	v.slurm()
}

// slurm checks the batch job settings; the values themselves (partition names, extra
// options) are checked again, strictly, when a script is written.
func (v *validator) slurm() {
	sl := v.spec.Slurm
	v.oneOf("$.slurm.gpu_flag", sl.GPUFlag, "gres", "gpus", "none")
	if sl.Nodes < 1 {
		v.add("$.slurm.nodes", "must be at least 1", "")
	}
	if sl.CPUsPerTask < 0 {
		v.add("$.slurm.cpus_per_task", "must not be negative", "0 keeps the cluster's default")
	}
	if sl.Poll.D() < 100*time.Millisecond {
		v.add("$.slurm.poll", "must be at least 100ms", "squeue is asked this often; 10s is polite on a busy cluster")
	}
	for i, o := range sl.Extra {
		if !strings.HasPrefix(o, "-") || strings.ContainsAny(o, " \t\n\r'\"") {
			v.add(fmt.Sprintf("$.slurm.extra[%d]", i), fmt.Sprintf("%q is not one sbatch option", o),
				"write one --name=value per entry, without blanks or quotes, e.g. --qos=high")
		}
	}
	for i, line := range sl.Setup {
		if strings.ContainsAny(line, "\n\r") {
			v.add(fmt.Sprintf("$.slurm.setup[%d]", i), "holds a line break", "give one shell line per entry")
		}
	}
}

// zeroLevel refuses a load level of 0 where 0 cannot mean anything (a measured window or a
// timeout of no time, no workers); 0 is kept where it does (no warm-up, no cool-down, no grace).
func zeroLevel(name, value string) string {
	switch name {
	case "run_time", "timeout", "stall_timeout", "workers", "burstiness":
	default:
		return ""
	}
	var l Load
	_ = applyLoadLevel(&l, name, value)
	if l.RunTime < 0 || l.Timeout < 0 || l.StallTimeout < 0 || l.Workers < 0 || l.Burstiness < 0 {
		return "must be above 0"
	}
	if l.RunTime == 0 && l.Timeout == 0 && l.StallTimeout == 0 && l.Workers == 0 && l.Burstiness == 0 {
		return fmt.Sprintf("%s must be above 0, got %s", name, value)
	}
	return ""
}

func promptName(src workload.Source) string {
	if src.Path == "" {
		return src.Name
	}
	return filepath.Base(src.Path)
}
