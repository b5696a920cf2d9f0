package matrix

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/spec"
	"github.com/llmscale/llmscale/internal/workload"
)

// dim is one factor with its levels as text; server dims need a server restart.
type dim struct {
	name   string
	levels []string
	server bool
	kind   string // "" for core factors; "arg", "env" or "load" for free-form ones
}

// Expand turns a loaded matrix into a plan. Experiments are ordered server configuration by
// server configuration, so each starts once; ids are stable for the same file.
func Expand(l *spec.Loaded) (Plan, error) {
	s := &l.Spec
	dims := dimensions(s)
	rules, problems := compileRules(l, dims)
	if len(problems) > 0 {
		return Plan{}, &spec.Error{File: l.File, Problems: problems}
	}
	if n, ok := candidates(dims, s.Repeats); !ok || n > s.MaxExperiments {
		return Plan{}, &spec.Error{File: l.File, Problems: []spec.Problem{tooLarge(l, dims, s.Repeats, s.MaxExperiments)}}
	}
	p := Plan{Campaign: s.Campaign, Engine: s.Engine, Model: s.Model}
	seenServer := map[string]bool{}
	ids := map[string]string{}
	var dup []spec.Problem
	for levels := range combinations(dims) {
		p.Combinations += s.Repeats
		c := newCombo(s, dims, levels)
		if reason, err := rules.verdict(c); err != nil {
			return Plan{}, &spec.Error{File: l.File, Problems: []spec.Problem{l.ProblemAt("$.rules", err.Error(), "")}}
		} else if reason != "" {
			for range s.Repeats {
				p.Skipped = append(p.Skipped, Skipped{Factors: c.factors, Server: c.server.ID, Reason: reason})
			}
			continue
		}
		if !seenServer[c.server.ID] {
			seenServer[c.server.ID] = true
			p.Servers = append(p.Servers, c.server)
		}
		for e := range c.experiments(s.Campaign, s.Repeats) {
			if prev, ok := ids[e.ID]; ok {
				if out := c.load.Prompts.OutTokens; out > 0 { // max_tokens levels that cannot apply
					p.Skipped = append(p.Skipped, Skipped{Factors: c.factors, Server: c.server.ID, Reason: fmt.Sprintf(
						"prompts %s set the output length (%d tokens), so max_tokens does not apply", c.load.PromptSet, out)})
					continue
				}
				dup = append(dup, l.ProblemAt("$.factors", fmt.Sprintf("combinations %s and %s both get the id %s", prev, describe(e.Factors), e.ID),
					"give levels that differ in letters or digits"))
			}
			ids[e.ID] = describe(e.Factors)
			p.Experiments = append(p.Experiments, e)
		}
	}
	if len(dup) > 0 {
		return Plan{}, &spec.Error{File: l.File, Problems: dup}
	}
	if len(p.Experiments) == 0 {
		return Plan{}, &spec.Error{File: l.File, Problems: []spec.Problem{noneValid(l, p.Skipped)}}
	}
	sortByServer(&p)
	p.Estimate = estimate(p, s.Server.StartupEstimate.D())
	return p, nil
}

// dimensions lists the factors in id order: server factors first, then load factors.
func dimensions(s *spec.Spec) []dim {
	f := s.Factors
	var dims []dim
	addInts := func(name string, v []int, server bool) {
		if len(v) > 0 {
			dims = append(dims, dim{name: name, levels: intTexts(v), server: server})
		}
	}
	addInts("gpus", f.GPUs, true)
	addInts("tp", f.TP, true)
	addInts("dp", f.DP, true)
	addInts("pp", f.PP, true)
	addInts("batch_size", f.BatchSize, true)
	addInts("mbt", f.MBT, true)
	dims = append(dims, freeDims(f.ServerArgs, "arg", true)...)
	dims = append(dims, freeDims(f.ServerEnv, "env", true)...)
	addInts("users", f.Users, false)
	addInts("concurrency", f.Concurrency, false)
	addInts("sweep", f.Sweep, false)
	if len(f.Rate) > 0 {
		rates := make([]string, len(f.Rate))
		for i, r := range f.Rate {
			rates[i] = strconv.FormatFloat(r, 'g', -1, 64)
		}
		dims = append(dims, dim{name: "rate", levels: rates})
	}
	dims = append(dims, dim{name: "prompts", levels: f.Prompts})
	addInts("max_tokens", f.MaxTokens, false)
	dims = append(dims, freeDims(f.Load, "load", false)...)
	return dims
}

func freeDims(m map[string][]spec.Level, kind string, server bool) []dim {
	var out []dim
	for _, name := range slices.Sorted(maps.Keys(m)) {
		levels := make([]string, len(m[name]))
		for i, l := range m[name] {
			levels[i] = string(l)
		}
		out = append(out, dim{name: name, levels: levels, server: server, kind: kind})
	}
	return out
}

func intTexts(v []int) []string {
	out := make([]string, len(v))
	for i, x := range v {
		out[i] = strconv.Itoa(x)
	}
	return out
}

// candidates is the number of combinations times repeats, computed without expanding; ok is
// false when it does not fit an int.
func candidates(dims []dim, repeats int) (n int, ok bool) {
	n = max(repeats, 1)
	for _, d := range dims {
		if len(d.levels) > 0 && n > math.MaxInt/len(d.levels) {
			return 0, false
		}
		n *= max(len(d.levels), 1)
	}
	return n, true
}

// tooLarge explains a plan over the cap with the size of each factor, largest first.
func tooLarge(l *spec.Loaded, dims []dim, repeats, limit int) spec.Problem {
	sorted := slices.Clone(dims)
	slices.SortStableFunc(sorted, func(a, b dim) int { return len(b.levels) - len(a.levels) })
	parts := make([]string, 0, len(sorted)+1)
	for _, d := range sorted {
		if len(d.levels) > 1 {
			parts = append(parts, fmt.Sprintf("%s %d", d.name, len(d.levels)))
		}
	}
	if repeats > 1 {
		parts = append(parts, fmt.Sprintf("repeats %d", repeats))
	}
	size := "more than fits a number"
	if n, ok := candidates(dims, repeats); ok {
		size = strconv.Itoa(n)
	}
	return l.ProblemAt("$.factors", fmt.Sprintf("the matrix makes %s candidate experiments (%s), over the cap of %d",
		size, strings.Join(parts, " × "), limit),
		"remove levels, or raise the cap with --max-experiments N (or max_experiments: N) if you mean it")
}

// combinations yields every combination of levels, the last dimension changing fastest.
func combinations(dims []dim) func(yield func([]string) bool) {
	return func(yield func([]string) bool) {
		idx := make([]int, len(dims))
		for {
			levels := make([]string, len(dims))
			for i, d := range dims {
				levels[i] = d.levels[idx[i]]
			}
			if !yield(levels) {
				return
			}
			i := len(dims) - 1
			for ; i >= 0; i-- {
				idx[i]++
				if idx[i] < len(dims[i].levels) {
					break
				}
				idx[i] = 0
			}
			if i < 0 {
				return
			}
		}
	}
}

func describe(fs []Factor) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = f.Name + "=" + f.Value
	}
	return strings.Join(parts, " ")
}

// noneValid explains a matrix whose rules leave nothing to run.
func noneValid(l *spec.Loaded, skipped []Skipped) spec.Problem {
	counts := map[string]int{}
	var reasons []string
	for _, s := range skipped {
		key := s.Reason
		if i := strings.Index(key, " ("); i > 0 {
			key = key[:i]
		}
		if counts[key] == 0 {
			reasons = append(reasons, key)
		}
		counts[key]++
	}
	parts := make([]string, len(reasons))
	for i, r := range reasons {
		parts[i] = fmt.Sprintf("%d × %s", counts[r], r)
	}
	return l.ProblemAt("$.factors", "no combination is a valid experiment: "+strings.Join(parts, "; "),
		"check the levels of gpus, tp, dp and pp against rules.require, exclude and only")
}

// sortByServer keeps experiments of one server configuration together, servers in order of
// first appearance, and numbers them.
func sortByServer(p *Plan) {
	order := map[string]int{}
	for i, s := range p.Servers {
		order[s.ID] = i
	}
	slices.SortStableFunc(p.Experiments, func(a, b Experiment) int {
		return order[a.Server.ID] - order[b.Server.ID]
	})
	for i := range p.Experiments {
		p.Experiments[i].Index = i + 1
	}
}

func estimate(p Plan, startup time.Duration) Estimate {
	var e Estimate
	for _, x := range p.Experiments {
		d := x.Load.Duration()
		e.Wall += d
		e.GPUHours += d.Hours() * float64(x.Server.GPUs)
	}
	for _, s := range p.Servers {
		e.Wall += startup
		e.GPUHours += startup.Hours() * float64(s.GPUs)
	}
	return e
}

// combo is one combination being turned into an experiment.
type combo struct {
	values  map[string]string
	factors []Factor
	server  ServerConfig
	load    Load
	exprEnv map[string]any
}

func newCombo(s *spec.Spec, dims []dim, levels []string) combo {
	c := combo{values: map[string]string{}}
	args, env, loadLevels := map[string]string{}, map[string]string{}, map[string]string{}
	for i, d := range dims {
		c.values[d.name] = levels[i]
		c.factors = append(c.factors, Factor{Name: d.name, Value: levels[i]})
		switch d.kind {
		case "arg":
			args[d.name] = levels[i]
		case "env":
			env[d.name] = levels[i]
		case "load":
			loadLevels[d.name] = levels[i]
		}
	}
	c.server = serverConfig(s, c.values, dims, args, env)
	c.load = loadOf(s, c.values, loadLevels)
	c.exprEnv = exprEnv(c.values, c.server, args, env, loadLevels)
	return c
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s) // levels were ints before they became text
	return n
}

func serverConfig(s *spec.Spec, v map[string]string, dims []dim, args, env map[string]string) ServerConfig {
	sc := ServerConfig{Engine: s.Engine, Model: s.Model, Host: s.Host, TP: atoi(v["tp"]), DP: atoi(v["dp"]), PP: atoi(v["pp"]),
		BatchSize: atoi(v["batch_size"]), MBT: atoi(v["mbt"]), Settings: s.Server}
	sc.GPUs = sc.TP * sc.DP * sc.PP
	if g, ok := v["gpus"]; ok {
		sc.GPUs = atoi(g)
	}
	sc.Args = slices.Clone(s.Server.ExtraArgs)
	for _, flag := range slices.Sorted(maps.Keys(args)) {
		switch strings.ToLower(args[flag]) {
		case "false":
		case "true", "":
			sc.Args = append(sc.Args, flag)
		default:
			sc.Args = append(sc.Args, flag, args[flag])
		}
	}
	sc.Env = maps.Clone(s.Server.Env)
	if len(env) > 0 && sc.Env == nil {
		sc.Env = map[string]string{}
	}
	maps.Copy(sc.Env, env)
	sc.ID = serverID(sc, dims, v)
	return sc
}

func serverID(sc ServerConfig, dims []dim, v map[string]string) string {
	parts := []string{fmt.Sprintf("G%d", sc.GPUs), fmt.Sprintf("TP%d", sc.TP), fmt.Sprintf("DP%d", sc.DP)}
	if sc.PP != 1 {
		parts = append(parts, fmt.Sprintf("PP%d", sc.PP))
	}
	if sc.BatchSize > 0 {
		parts = append(parts, fmt.Sprintf("B%d", sc.BatchSize))
	}
	if sc.MBT > 0 {
		parts = append(parts, fmt.Sprintf("MBT%d", sc.MBT))
	}
	for _, d := range dims {
		if d.server && d.kind != "" {
			parts = append(parts, Slug(strings.TrimLeft(d.name, "-")+"-"+v[d.name]))
		}
	}
	return strings.Join(parts, "_")
}

func loadOf(s *spec.Spec, v map[string]string, levels map[string]string) Load {
	l := Load{PromptSet: v["prompts"], MaxTokens: atoi(v["max_tokens"]), API: s.API, Model: s.Model,
		Tokenizer: s.TokenizerPath(), Settings: s.Load, SLO: s.SLO}
	switch {
	case v["users"] != "":
		l.Mode, l.Users = loadspec.ModeUsers, atoi(v["users"])
	case v["concurrency"] != "":
		l.Mode, l.Concurrency = loadspec.ModeConcurrency, atoi(v["concurrency"])
	case v["sweep"] != "":
		l.Mode = loadspec.ModeSweep
	default:
		l.Mode = loadspec.ModeRate
		l.Rate, _ = strconv.ParseFloat(v["rate"], 64)
	}
	l.Prompts, _ = workload.Resolve(l.PromptSet, s.PromptSets, s.Dir) // validated when loaded
	if l.Prompts.OutTokens > 0 {
		l.MaxTokens = l.Prompts.OutTokens // random:IN:OUT sets the output length itself
	}
	for _, name := range slices.Sorted(maps.Keys(levels)) {
		_ = spec.ApplyLoadLevel(&l.Settings, name, levels[name]) // validated when loaded
	}
	if l.Mode == loadspec.ModeSweep {
		l.Sweep = &SweepPoint{Points: atoi(v["sweep"]), MaxConcurrency: l.Settings.SweepMaxConcurrency}
	}
	return l
}

func (c combo) experiment(campaign string, repeat int) Experiment {
	parts := []string{Slug(campaign), fmt.Sprintf("G%d_TP%d_DP%d", c.server.GPUs, c.server.TP, c.server.DP)}
	if c.server.PP != 1 {
		parts = append(parts, fmt.Sprintf("PP%d", c.server.PP))
	}
	switch c.load.Mode {
	case loadspec.ModeUsers:
		parts = append(parts, fmt.Sprintf("U%d", c.load.Users))
	case loadspec.ModeConcurrency:
		parts = append(parts, fmt.Sprintf("C%d", c.load.Concurrency))
	case loadspec.ModeSweep:
		parts = append(parts, "SW"+c.values["sweep"])
	default:
		parts = append(parts, "R"+c.values["rate"])
	}
	parts = append(parts, c.load.Prompts.Name, fmt.Sprintf("O%d", c.load.MaxTokens))
	if rest := strings.TrimPrefix(c.server.ID, serverCore(c.server)); rest != "" {
		parts = append(parts, strings.TrimPrefix(rest, "_"))
	}
	for _, f := range c.factors {
		if _, isLoad := c.loadFactor(f.Name); isLoad {
			parts = append(parts, Slug(f.Name+"-"+f.Value))
		}
	}
	if repeat > 1 {
		parts = append(parts, fmt.Sprintf("r%d", repeat))
	}
	e := Experiment{ID: strings.Join(parts, "_"), Repeat: repeat, Factors: c.factors, Server: c.server, Load: c.load}
	if c.load.Sweep != nil {
		sw := *c.load.Sweep
		sw.ID = e.ID
		e.Load.Sweep = &sw
	}
	return e
}

// serverCore is the part of a server id that the experiment id already spells out.
func serverCore(sc ServerConfig) string {
	core := fmt.Sprintf("G%d_TP%d_DP%d", sc.GPUs, sc.TP, sc.DP)
	if sc.PP != 1 {
		core += fmt.Sprintf("_PP%d", sc.PP)
	}
	return core
}

// loadFactor reports whether a factor is a free-form load setting.
func (c combo) loadFactor(name string) (string, bool) {
	m, _ := c.exprEnv["load"].(map[string]string)
	v, ok := m[name]
	return v, ok
}
