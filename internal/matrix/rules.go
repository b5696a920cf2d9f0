package matrix

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"

	"github.com/llmscale/llmscale/internal/spec"
)

// rule is one compiled expression with the variables it reads, for the skip reason.
type rule struct {
	text    string
	program *vm.Program
	vars    []string
}

type ruleSet struct {
	require []rule
	exclude []matcher
	only    []matcher
}

// matcher is one entry of rules.exclude or rules.only.
type matcher struct {
	label  string // rules.exclude[0] {prompts: long}
	expr   *rule
	levels map[string][]string
}

// coreFactors are the names usable in rules besides free-form factors.
func coreFactors() []string {
	return []string{"gpus", "tp", "dp", "pp", "users", "concurrency", "rate", "sweep", "prompts", "max_tokens", "batch_size", "mbt"}
}

// compileRules compiles every expression against the factor names, reporting all problems.
func compileRules(l *spec.Loaded, dims []dim) (ruleSet, []spec.Problem) {
	var rs ruleSet
	var problems []spec.Problem
	sample := exprEnv(map[string]string{}, ServerConfig{}, map[string]string{}, map[string]string{}, map[string]string{})
	names := factorNames(dims)
	for i, text := range l.Rules.Require {
		r, err := compile(text, sample)
		if err != nil {
			problems = append(problems, l.ProblemAt(fmt.Sprintf("$.rules.require[%d]", i), err.Error(), exprHint(names)))
			continue
		}
		rs.require = append(rs.require, r)
	}
	for _, list := range []struct {
		key  string
		in   []spec.Match
		into *[]matcher
	}{{"exclude", l.Rules.Exclude, &rs.exclude}, {"only", l.Rules.Only, &rs.only}} {
		for i, m := range list.in {
			path := fmt.Sprintf("$.rules.%s[%d]", list.key, i)
			mt := matcher{label: fmt.Sprintf("rules.%s[%d] %s", list.key, i, m), levels: m.Levels}
			if m.Levels == nil {
				r, err := compile(m.Expr, sample)
				if err != nil {
					problems = append(problems, l.ProblemAt(path, err.Error(), exprHint(names)))
					continue
				}
				mt.expr = &r
			}
			for _, k := range slices.Sorted(maps.Keys(m.Levels)) {
				if !slices.Contains(names, k) {
					problems = append(problems, l.ProblemAt(path, fmt.Sprintf("%q is not a factor of this matrix", k),
						"factors here: "+strings.Join(names, ", ")))
				}
			}
			*list.into = append(*list.into, mt)
		}
	}
	return rs, problems
}

func factorNames(dims []dim) []string {
	names := coreFactors()
	for _, d := range dims {
		if !slices.Contains(names, d.name) {
			names = append(names, d.name)
		}
	}
	return names
}

func exprHint(names []string) string {
	return "expressions read factors by name (" + strings.Join(names, ", ") +
		`), free-form ones as args["--flag"], env["VAR"], load["name"]; e.g. tp * dp * pp == gpus`
}

func compile(text string, sample map[string]any) (rule, error) {
	program, err := expr.Compile(text, expr.Env(sample), expr.AsBool())
	if err != nil {
		return rule{}, fmt.Errorf("rule %q: %s", text, firstLine(err.Error()))
	}
	r := rule{text: text, program: program}
	node := program.Node()
	ast.Walk(&node, identifiers{&r.vars})
	return r, nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

type identifiers struct{ names *[]string }

func (v identifiers) Visit(n *ast.Node) {
	if id, ok := (*n).(*ast.IdentifierNode); ok && !slices.Contains(*v.names, id.Value) {
		*v.names = append(*v.names, id.Value)
	}
}

func (r rule) eval(env map[string]any) (bool, error) {
	out, err := expr.Run(r.program, env)
	if err != nil {
		return false, fmt.Errorf("rule %q: %w", r.text, err)
	}
	b, _ := out.(bool)
	return b, nil
}

// verdict returns why a combination is skipped, or "" when it is an experiment.
func (rs ruleSet) verdict(c combo) (string, error) {
	for _, r := range rs.require {
		ok, err := r.eval(c.exprEnv)
		if err != nil {
			return "", err
		}
		if !ok {
			return fmt.Sprintf("rule %q is false (%s)", r.text, c.show(r.vars)), nil
		}
	}
	for _, m := range rs.exclude {
		hit, err := m.matches(c)
		if err != nil {
			return "", err
		}
		if hit {
			return "excluded by " + m.label, nil
		}
	}
	if len(rs.only) == 0 {
		return "", nil
	}
	for _, m := range rs.only {
		hit, err := m.matches(c)
		if err != nil || hit {
			return "", err
		}
	}
	return "matches none of rules.only", nil
}

func (m matcher) matches(c combo) (bool, error) {
	if m.expr != nil {
		return m.expr.eval(c.exprEnv)
	}
	for name, levels := range m.levels {
		if !slices.Contains(levels, c.values[name]) {
			return false, nil
		}
	}
	return true, nil
}

// show prints the variables a rule read, with this combination's values.
func (c combo) show(vars []string) string {
	parts := make([]string, 0, len(vars))
	for _, v := range vars {
		if x, ok := c.exprEnv[v]; ok {
			parts = append(parts, fmt.Sprintf("%s=%v", v, x))
		}
	}
	return strings.Join(parts, " ")
}

// exprEnv is what rule expressions see: core factors typed, free-form ones in maps.
func exprEnv(v map[string]string, sc ServerConfig, args, env, load map[string]string) map[string]any {
	return map[string]any{
		"gpus": sc.GPUs, "tp": sc.TP, "dp": sc.DP, "pp": sc.PP,
		"users": atoi(v["users"]), "concurrency": atoi(v["concurrency"]), "rate": parseRate(v["rate"]),
		"sweep":   atoi(v["sweep"]),
		"prompts": v["prompts"], "max_tokens": atoi(v["max_tokens"]),
		"batch_size": sc.BatchSize, "mbt": sc.MBT,
		"args": args, "env": env, "load": load,
	}
}

func parseRate(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64) // levels were floats before they became text
	return f
}
