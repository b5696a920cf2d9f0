package spec

import (
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Precedence, highest first: command-line flags > environment variables > the .env file >
// the matrix file > defaults (ApplyDefaults). The CLI builds one Overlay per source and passes
// them to LoadFile lowest first, so each later overlay overwrites the one before.

// Setting is one value given outside the matrix file.
type Setting struct {
	Key   string // dotted matrix key: factors.users, load.run_time, server.sim.speedup
	Value string // lists are comma-separated: "10,50,100"
	From  string // who set it, for messages: "environment variable USERS", "--set"
	Path  bool   // a file path, relative to Overlay.Dir rather than to the matrix
}

// Overlay is one source of settings.
type Overlay struct {
	Settings []Setting
	Dir      string // folder relative paths in Path settings start from (the working directory)
}

// EnvVar documents a variable llmscale reads; Key is the matrix key it sets, or "" when the
// command line reads it directly (such as LLMSCALE_MATRIX or an API key).
type EnvVar struct {
	Name string
	Key  string
	Path bool
	Doc  string
}

// EnvVars lists every variable, in the order env.example documents them. The seed's names keep
// their meaning; llmscale's own start with LLMSCALE_.
func EnvVars() []EnvVar {
	return []EnvVar{
		{Name: "VLLM_MODEL", Key: "model", Doc: "model the server loads and requests name"},
		{Name: "VLLM_HOST", Key: "host", Doc: "base URL of an already running server (engine external)"},
		{Name: "USERS", Key: "factors.users", Doc: "closed-loop users (comma-separated levels)"},
		{Name: "SPAWN", Key: "load.spawn_rate", Doc: "users started per second"},
		{Name: "RUN_TIME", Key: "load.run_time", Doc: "measured window, e.g. 3m"},
		{Name: "PROMPTS_FILE", Key: "factors.prompts", Path: true, Doc: "prompt file, prompt set name or random:IN:OUT"},
		{Name: "MAX_TOKENS", Key: "factors.max_tokens", Doc: "output tokens per request"},
		{Name: "TP", Key: "factors.tp", Doc: "tensor-parallel size"},
		{Name: "DP", Key: "factors.dp", Doc: "data-parallel size"},
		{Name: "BATCH_SIZE", Key: "factors.batch_size", Doc: "--max-num-seqs per DP rank"},
		{Name: "MBT", Key: "factors.mbt", Doc: "--max-num-batched-tokens per DP rank"},
		{Name: "LLMSCALE_CAMPAIGN", Key: "campaign", Doc: "campaign name, the prefix of every experiment id"},
		{Name: "LLMSCALE_ENGINE", Key: "engine", Doc: "vllm, sglang, llamacpp, command, external or sim"},
		{Name: "LLMSCALE_API", Key: "api", Doc: "completions or chat"},
		{Name: "LLMSCALE_GPUS", Key: "factors.gpus", Doc: "GPU counts (levels)"},
		{Name: "LLMSCALE_PP", Key: "factors.pp", Doc: "pipeline-parallel size"},
		{Name: "LLMSCALE_CONCURRENCY", Key: "factors.concurrency", Doc: "fixed in-flight requests instead of users"},
		{Name: "LLMSCALE_RATE", Key: "factors.rate", Doc: "open-loop requests/s instead of users"},
		{Name: "LLMSCALE_WARMUP", Key: "load.warmup", Doc: "warm-up before the measured window"},
		{Name: "LLMSCALE_COOLDOWN", Key: "load.cooldown", Doc: "cool-down after the measured window"},
		{Name: "LLMSCALE_THINK_TIME", Key: "load.think_time", Doc: "a user's pause between requests"},
		{Name: "LLMSCALE_SEED", Key: "load.seed", Doc: "seed of every random choice"},
		{Name: "LLMSCALE_REPEATS", Key: "repeats", Doc: "repeats of every experiment"},
		{Name: "LLMSCALE_MATRIX", Doc: "matrix file (default config/experiment_matrix.yaml)"},
		{Name: "LLMSCALE_RESULTS", Doc: "results folder (default results)"},
		{Name: "OPENAI_API_KEY", Doc: "API key sent as a bearer token (VLLM_API_KEY is read too)"},
		{Name: "VLLM_API_KEY", Doc: "API key sent as a bearer token"},
	}
}

// EnvOverlay collects the matrix settings that lookup finds among EnvVars; from names the
// source ("environment variable", ".env").
func EnvOverlay(lookup func(string) string, from, dir string) Overlay {
	o := Overlay{Dir: dir}
	for _, ev := range EnvVars() {
		if ev.Key == "" {
			continue
		}
		if v := strings.TrimSpace(lookup(ev.Name)); v != "" {
			o.Settings = append(o.Settings, Setting{Key: ev.Key, Value: v, From: from + " " + ev.Name, Path: ev.Path})
		}
	}
	return o
}

func (l *Loaded) apply(o Overlay) []Problem {
	problems := modeConflicts(o)
	if len(problems) > 0 {
		return problems
	}
	root := reflect.ValueOf(&l.Spec).Elem()
	for _, s := range o.Settings {
		if strings.TrimSpace(s.Value) == "" {
			// An empty value is never read as "use the default": a factor with no level or a
			// duration with no length is a mistake the user must see.
			problems = append(problems, Problem{Path: "$." + s.Key, Msg: s.From + ": the value is empty",
				Hint: "give a value, or leave " + s.Key + " out to keep the matrix's value or the default"})
			continue
		}
		value := s.Value
		if s.Path {
			value = absPaths(value, o.Dir)
		}
		if err := setPath(root, strings.Split(s.Key, "."), value); err != nil {
			problems = append(problems, Problem{Path: "$." + s.Key, Msg: fmt.Sprintf("%s: %v", s.From, err)})
			continue
		}
		if isLoadMode(s.Key) && strings.TrimSpace(value) != "" { // the load modes are exclusive: setting one clears the others
			for _, m := range LoadModeFactors() {
				if "factors."+m != s.Key {
					_ = setPath(root, []string{"factors", m}, "")
				}
			}
		}
		l.origins["$."+s.Key] = s.From
	}
	return problems
}

// modeConflicts reports load modes set together by one source: a higher source replaces a
// lower one's mode (USERS in the environment wins over rate in the matrix), but one source
// that gives two modes, such as a .env with USERS and LLMSCALE_RATE, does not say which it means.
func modeConflicts(o Overlay) []Problem {
	var modes []Setting
	for _, s := range o.Settings {
		if isLoadMode(s.Key) && strings.TrimSpace(s.Value) != "" {
			modes = append(modes, s)
		}
	}
	if len(modes) < 2 {
		return nil
	}
	return []Problem{{Path: "$.factors", Msg: fmt.Sprintf("%s (%s) and %s (%s) both set the load mode",
		modes[0].From, modes[0].Key, modes[1].From, modes[1].Key),
		Hint: loadModeHint}}
}

// LoadModeFactors lists the factors that set the load mode; a matrix gives at most one.
func LoadModeFactors() []string { return []string{"users", "concurrency", "rate", "sweep"} }

const loadModeHint = "keep one: users (closed loop), concurrency (fixed in-flight), rate (open loop) or sweep (found by the sweep)"

func isLoadMode(key string) bool {
	m, ok := strings.CutPrefix(key, "factors.")
	return ok && slices.Contains(LoadModeFactors(), m)
}

// absPaths makes relative file paths in a comma list absolute; names and random:… stay.
func absPaths(list, dir string) string {
	parts := strings.Split(list, ",")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		ext := strings.ToLower(filepath.Ext(p))
		if (ext == ".txt" || ext == ".json") && !filepath.IsAbs(p) && !strings.HasPrefix(p, "random:") {
			p = filepath.Join(dir, p)
		}
		parts[i] = p
	}
	return strings.Join(parts, ",")
}

// setPath sets the field the yaml keys lead to from text; an empty value clears it.
func setPath(v reflect.Value, keys []string, value string) error {
	if len(keys) == 0 {
		return setValue(v, value)
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return setPath(v.Elem(), keys, value)
	case reflect.Struct:
		fields := yamlFields(v.Type())
		f, ok := fields[keys[0]]
		if !ok {
			return fmt.Errorf("unknown key %q (%s)", keys[0], suggest(keys[0], fields))
		}
		return setPath(v.FieldByIndex(f.Index), keys[1:], value)
	case reflect.Map:
		if v.IsNil() {
			v.Set(reflect.MakeMap(v.Type()))
		}
		elem := reflect.New(v.Type().Elem()).Elem()
		if err := setPath(elem, keys[1:], value); err != nil {
			return err
		}
		v.SetMapIndex(reflect.ValueOf(keys[0]), elem)
		return nil
	}
	return fmt.Errorf("%q has no key %q", v.Type(), keys[0])
}

func setValue(v reflect.Value, text string) error {
	text = strings.TrimSpace(text)
	if text == "" {
		v.SetZero()
		return nil
	}
	switch {
	case v.Type() == durationType:
		d, err := parseDuration(text)
		if err != nil {
			return err
		}
		v.SetInt(int64(d))
	case v.Kind() == reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		return setValue(v.Elem(), text)
	case v.Kind() == reflect.Slice:
		parts := strings.Split(text, ",")
		s := reflect.MakeSlice(v.Type(), len(parts), len(parts))
		for i, p := range parts {
			if err := setValue(s.Index(i), p); err != nil {
				return err
			}
		}
		v.Set(s)
	default:
		return setScalar(v, text)
	}
	return nil
}

func setScalar(v reflect.Value, text string) error {
	switch v.Kind() {
	case reflect.String:
		v.SetString(text)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", text)
		}
		v.SetInt(n)
	case reflect.Float64:
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", text)
		}
		v.SetFloat(f)
	case reflect.Bool:
		b, err := strconv.ParseBool(text)
		if err != nil {
			return fmt.Errorf("%q is not true or false", text)
		}
		v.SetBool(b)
	default:
		return fmt.Errorf("cannot be set from text")
	}
	return nil
}

// ApplyLoadLevel sets one load setting by its matrix name (think_time, spawn_rate, …) from
// text; it is how load factors (factors.load) reach each experiment.
func ApplyLoadLevel(l *Load, name, value string) error {
	return applyLoadLevel(l, name, value)
}

func applyLoadLevel(l *Load, name, value string) error {
	return setPath(reflect.ValueOf(l).Elem(), []string{name}, value)
}
