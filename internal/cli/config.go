package cli

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/joho/godotenv"
	"github.com/spf13/pflag"

	"github.com/llmscale/llmscale/internal/matrix"
	"github.com/llmscale/llmscale/internal/spec"
)

// DefaultMatrix is the matrix file used when neither --matrix nor LLMSCALE_MATRIX names one.
const DefaultMatrix = "config/experiment_matrix.yaml"

// settings resolves configuration with one precedence, highest first:
//
//	command-line flags > environment variables > .env (in the working directory) >
//	the matrix file > defaults (spec.ApplyDefaults)
//
// Every subcommand reads configuration through it.
type settings struct {
	env    Env
	dotenv map[string]string
}

func newSettings(env Env) (settings, error) {
	s := settings{env: env, dotenv: map[string]string{}}
	path := env.path(".env")
	data, err := os.ReadFile(path)
	if err == nil {
		s.dotenv, err = parseDotenv(data)
	}
	switch {
	case err == nil:
	case errors.Is(err, os.ErrNotExist):
	default:
		return s, withHint(withCode(fmt.Errorf(".env %s: %w", path, err), ExitUsage),
			"each line of .env is NAME=value; see env.example")
	}
	return s, nil
}

// MaxDotenvBytes bounds .env: it holds a few settings, and anything much larger is the wrong file.
const MaxDotenvBytes = 1 << 20

// parseDotenv reads the NAME=value lines of a .env file.
func parseDotenv(data []byte) (map[string]string, error) {
	if len(data) > MaxDotenvBytes {
		return nil, fmt.Errorf("is %d bytes, over the limit of %d", len(data), MaxDotenvBytes)
	}
	m, err := godotenv.UnmarshalBytes(data)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// lookup reads a variable from the environment, else from .env.
func (s settings) lookup(name string) string {
	if v := s.env.Getenv(name); v != "" {
		return v
	}
	return s.dotenv[name]
}

// matrixFlags are the flags every matrix-reading command takes.
type matrixFlags struct {
	file string
	sets []string
}

func (f *matrixFlags) register(fs *pflag.FlagSet) {
	fs.StringVarP(&f.file, "matrix", "m", "", "matrix file (default $LLMSCALE_MATRIX or "+DefaultMatrix+")")
	fs.StringArrayVar(&f.sets, "set", nil, "override a matrix key, e.g. --set factors.users=10,50 --set load.run_time=30s (repeatable)")
	fs.Var(maxExperimentsFlag{&f.sets}, "max-experiments", fmt.Sprintf("largest plan accepted, checked before expanding (default %d; the same as --set max_experiments=N)", spec.DefaultMaxExperiments))
}

// maxExperimentsFlag is --max-experiments N, kept as the --set it stands for, so the jobs of
// the slurm executor, which get the --set flags, plan with the same cap.
type maxExperimentsFlag struct{ sets *[]string }

func (m maxExperimentsFlag) String() string { return "" }
func (m maxExperimentsFlag) Type() string   { return "int" }
func (m maxExperimentsFlag) Set(v string) error {
	if _, err := strconv.Atoi(strings.TrimSpace(v)); err != nil {
		return fmt.Errorf("%q is not a whole number", v)
	}
	*m.sets = append(*m.sets, "max_experiments="+strings.TrimSpace(v))
	return nil
}

// matrixFile is the matrix file as the user named it: --matrix, else LLMSCALE_MATRIX, else
// the default.
func (s settings) matrixFile(f matrixFlags) string {
	path := f.file
	if path == "" {
		path = s.lookup("LLMSCALE_MATRIX")
	}
	if path == "" {
		path = DefaultMatrix
	}
	return path
}

// plan reads the matrix with every override applied in precedence order and expands it.
func (s settings) plan(f matrixFlags) (*spec.Loaded, matrix.Plan, error) {
	path := s.matrixFile(f)
	sets, err := setSettings(f.sets)
	if err != nil {
		return nil, matrix.Plan{}, err
	}
	flagOverlay := spec.Overlay{Dir: s.env.Dir, Settings: sets}
	l, p, err := matrix.PlanFile(s.env.path(path), path,
		spec.EnvOverlay(func(n string) string { return s.dotenv[n] }, ".env", s.env.Dir),
		spec.EnvOverlay(s.env.Getenv, "environment variable", s.env.Dir),
		flagOverlay)
	if err != nil {
		return nil, matrix.Plan{}, matrixError(err, path)
	}
	return l, p, nil
}

func matrixError(err error, path string) error {
	if errors.Is(err, os.ErrNotExist) {
		return withHint(withCode(err, ExitInvalidMatrix),
			"give a matrix with --matrix FILE (or LLMSCALE_MATRIX); %s and config/experiment_matrix.sim.yaml are examples", DefaultMatrix)
	}
	if errors.Is(err, spec.ErrInvalid) {
		return withHint(withCode(err, ExitInvalidMatrix), "docs/matrix.md describes every key; `llmscale plan --matrix %s` checks the file", path)
	}
	return withCode(err, ExitInvalidMatrix)
}

// setSettings turns --set KEY=VALUE flags into matrix settings.
func setSettings(sets []string) ([]spec.Setting, error) {
	var out []spec.Setting
	for _, kv := range sets {
		key, value, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, withHint(withCode(fmt.Errorf("--set %q: want key=value", kv), ExitUsage),
				"e.g. --set factors.users=10,50")
		}
		key = strings.TrimSpace(key)
		out = append(out, spec.Setting{Key: key, Value: value, From: "--set " + kv, Path: key == "factors.prompts"})
	}
	return out, nil
}
