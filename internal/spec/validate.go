package spec

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/llmscale/llmscale/internal/workload"
)

// Validate reports every semantic problem of a spec with defaults applied. Positions come
// from the file (or the override that set the value).
func (l *Loaded) Validate() []Problem {
	v := validator{spec: &l.Spec, at: l}
	v.top()
	v.factors()
	v.load()
	v.server()
	return v.problems
}

type validator struct {
	spec     *Spec
	at       *Loaded
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
	v.oneOf("$.api", s.API, APICompletions, APIChat)
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
		{"users", f.Users, 1}, {"concurrency", f.Concurrency, 1}, {"max_tokens", f.MaxTokens, 1},
		{"batch_size", f.BatchSize, 1}, {"mbt", f.MBT, 1},
	} {
		intLevels(v, "$.factors."+c.name, c.vals, c.least)
	}
	for i, r := range f.Rate {
		if r <= 0 {
			v.add(fmt.Sprintf("$.factors.rate[%d]", i), "a rate must be above 0 requests/s", "")
		}
	}
	modes := 0
	for _, n := range []int{len(f.Users), len(f.Concurrency), len(f.Rate)} {
		if n > 0 {
			modes++
		}
	}
	if modes > 1 {
		v.add("$.factors", "users, concurrency and rate are exclusive load modes",
			"keep one of them: users (closed loop), concurrency (fixed in-flight) or rate (open loop)")
	}
	v.prompts()
	for flag := range f.ServerArgs {
		if !strings.HasPrefix(flag, "-") {
			v.add("$.factors.server_args", fmt.Sprintf("%q is not a flag", flag), `write server flags with their dashes, e.g. "--enable-prefix-caching"`)
		}
	}
	for name, levels := range f.Load {
		for i, l := range levels {
			if err := applyLoadLevel(&Load{}, name, string(l)); err != nil {
				v.add(fmt.Sprintf("$.factors.load.%s[%d]", name, i), err.Error(), "")
			}
		}
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
		if _, err := workload.Resolve(level, s.PromptSets, s.Dir); err != nil {
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

func (v *validator) load() {
	l := v.spec.Load
	if l.SpawnRate < 0 {
		v.add("$.load.spawn_rate", "must not be negative", "0 starts every user at once")
	}
	if l.RunTime <= 0 {
		v.add("$.load.run_time", "must be above 0", "e.g. 3m")
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

func (v *validator) server() {
	sv := v.spec.Server
	if sv.Port < 0 || sv.Port > 65535 {
		v.add("$.server.port", fmt.Sprintf("%d is not a TCP port", sv.Port), "")
	}
	if g := sv.GPUMemoryUtilization; g <= 0 || g > 1 {
		v.add("$.server.gpu_memory_utilization", fmt.Sprintf("%g is not a fraction in (0, 1]", g), "")
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
