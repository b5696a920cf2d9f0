// Package server starts, watches and stops inference servers: it builds each engine's command
// line from a server configuration, runs it in its own process group with its output in a log,
// waits until it is healthy, and stops it (SIGTERM, then SIGKILL) with nothing left behind.
package server

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/llmscale/llmscale/internal/matrix"
	"github.com/llmscale/llmscale/internal/spec"
)

// Command is one process to start: its argv (no shell), extra environment, and where it listens.
type Command struct {
	Argv    []string `json:"argv"`
	Env     []string `json:"env"` // KEY=VALUE added to llmscale's own environment
	Port    int      `json:"port"`
	Devices []int    `json:"devices"` // GPU indices (CUDA_VISIBLE_DEVICES)
}

// String shows the command as a shell line, for logs and --dry-run (it is never run by a shell).
func (c Command) String() string {
	parts := make([]string, 0, len(c.Env)+len(c.Argv))
	parts = append(parts, c.Env...)
	for _, a := range c.Argv {
		parts = append(parts, shellQuote(a))
	}
	return strings.Join(parts, " ")
}

func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`*?&|;<>(){}[]#~!") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Instance is one process of a server configuration: the whole server, or one replica of it.
type Instance struct {
	Port    int
	Devices []int
	TP, DP  int // parallelism of this process (a replica has DP 1)
}

// Plan says how many processes a server configuration needs and on which ports and GPUs:
// one, or DP replicas of TP×PP GPUs each when the engine has no native data parallelism (or
// server.replicas is set).
func Plan(sc matrix.ServerConfig, basePort int) []Instance {
	devices := sc.Settings.Devices
	if len(devices) == 0 {
		for i := range sc.GPUs {
			devices = append(devices, i)
		}
	}
	if !Replicated(sc) {
		return []Instance{{Port: basePort, Devices: first(devices, sc.GPUs), TP: sc.TP, DP: sc.DP}}
	}
	per := sc.TP * sc.PP
	out := make([]Instance, sc.DP)
	for i := range out {
		out[i] = Instance{Port: basePort + i, Devices: window(devices, i*per, per), TP: sc.TP, DP: 1}
	}
	return out
}

// Replicated tells whether data parallelism is run as separate copies behind llmscale's own
// balancer rather than by the engine.
func Replicated(sc matrix.ServerConfig) bool {
	if sc.DP <= 1 {
		return false
	}
	return sc.Settings.Replicas || sc.Engine == spec.EngineLlamaCpp
}

func first(d []int, n int) []int {
	if n > len(d) {
		n = len(d)
	}
	return d[:n]
}

func window(d []int, from, n int) []int {
	if from >= len(d) {
		return nil
	}
	return first(d[from:], n)
}

// BuildCommand makes the command line of one instance. exe is the llmscale binary, which the
// sim engine runs as `llmscale sim`. It returns an error for engine external (nothing to
// start) and for a command template that names an unknown placeholder.
func BuildCommand(sc matrix.ServerConfig, in Instance, exe string) (Command, error) {
	c := Command{Port: in.Port, Devices: in.Devices}
	var err error
	switch sc.Engine {
	case spec.EngineVLLM:
		c.Argv = vllmArgv(sc, in)
		c.Env = append(c.Env, "VLLM_SERVER_DEV_MODE=1") // enables /reset_prefix_cache between experiments
	case spec.EngineSGLang:
		c.Argv = sglangArgv(sc, in)
	case spec.EngineLlamaCpp:
		c.Argv = llamaCppArgv(sc, in)
	case spec.EngineSim:
		c.Argv = simArgv(sc, in, exe)
	case spec.EngineCommand:
		c.Argv, err = commandArgv(sc, in)
	default:
		return c, fmt.Errorf("engine %s starts no process", sc.Engine)
	}
	if err != nil {
		return c, err
	}
	c.Argv = append(c.Argv, sc.Args...)
	if sc.Engine != spec.EngineSim && len(in.Devices) > 0 {
		c.Env = append(c.Env, "CUDA_VISIBLE_DEVICES="+joinInts(in.Devices, ","))
	}
	keys := make([]string, 0, len(sc.Env))
	for k := range sc.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		c.Env = append(c.Env, k+"="+sc.Env[k])
	}
	return c, nil
}

func joinInts(v []int, sep string) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, sep)
}

func itoa(n int) string { return strconv.Itoa(n) }

// optional appends flag and value when the value is set (0 leaves the engine's default).
func optional(argv []string, flag string, v int) []string {
	if v > 0 {
		return append(argv, flag, itoa(v))
	}
	return argv
}

func vllmArgv(sc matrix.ServerConfig, in Instance) []string {
	argv := []string{"vllm", "serve", sc.Model, "--host", "127.0.0.1", "--port", itoa(in.Port),
		"--tensor-parallel-size", itoa(in.TP), "--data-parallel-size", itoa(in.DP)}
	if sc.PP > 1 {
		argv = append(argv, "--pipeline-parallel-size", itoa(sc.PP))
	}
	argv = optional(argv, "--max-num-seqs", sc.BatchSize)
	argv = optional(argv, "--max-num-batched-tokens", sc.MBT)
	return append(argv, "--gpu-memory-utilization", fmtFloat(sc.Settings.GPUMemoryUtilization))
}

// sglangArgv uses SGLang's names: --tp-size, --dp-size, --max-running-requests (its batch cap),
// --chunked-prefill-size (its per-step prefill token budget), --mem-fraction-static.
func sglangArgv(sc matrix.ServerConfig, in Instance) []string {
	argv := []string{"python3", "-m", "sglang.launch_server", "--model-path", sc.Model, "--host", "127.0.0.1",
		"--port", itoa(in.Port), "--tp-size", itoa(in.TP), "--dp-size", itoa(in.DP)}
	if sc.PP > 1 {
		argv = append(argv, "--pp-size", itoa(sc.PP))
	}
	argv = optional(argv, "--max-running-requests", sc.BatchSize)
	argv = optional(argv, "--chunked-prefill-size", sc.MBT)
	return append(argv, "--mem-fraction-static", fmtFloat(sc.Settings.GPUMemoryUtilization), "--enable-metrics")
}

// llamaCppArgv maps the factors onto llama-server: slots (--parallel) are its batch cap, the
// logical batch (--batch-size) its per-step token budget, and TP splits rows across the
// instance's GPUs. Model is a GGUF path; its context comes from extra_args (--ctx-size).
func llamaCppArgv(sc matrix.ServerConfig, in Instance) []string {
	argv := []string{"llama-server", "--model", sc.Model, "--host", "127.0.0.1", "--port", itoa(in.Port),
		"--n-gpu-layers", "999", "--metrics"}
	argv = optional(argv, "--parallel", sc.BatchSize)
	argv = optional(argv, "--batch-size", sc.MBT)
	if in.TP > 1 {
		ones := make([]string, in.TP)
		for i := range ones {
			ones[i] = "1"
		}
		argv = append(argv, "--split-mode", "row", "--tensor-split", strings.Join(ones, ","))
	} else {
		argv = append(argv, "--split-mode", "none")
	}
	return argv
}

func simArgv(sc matrix.ServerConfig, in Instance, exe string) []string {
	s := sc.Settings.Sim
	argv := []string{exe, "sim", "--model", sc.Model, "--host", "127.0.0.1", "--port", itoa(in.Port),
		"--tensor-parallel-size", itoa(in.TP), "--data-parallel-size", itoa(in.DP)}
	argv = optional(argv, "--max-num-seqs", sc.BatchSize)
	argv = optional(argv, "--max-num-batched-tokens", sc.MBT)
	argv = append(argv, "--gpu-memory-utilization", fmtFloat(sc.Settings.GPUMemoryUtilization),
		"--gpu", s.GPU, "--model-profile", s.ModelProfile, "--interconnect", s.Interconnect,
		"--speedup", fmtFloat(s.Speedup), "--api-server-count", itoa(s.APIServerCount))
	if s.Seed != 0 {
		argv = append(argv, "--seed", strconv.FormatInt(s.Seed, 10))
	}
	if sc.PP > 1 { // the simulator checks it against the model, as vLLM does, and refuses it
		argv = append(argv, "--pipeline-parallel-size", itoa(sc.PP))
	}
	return argv
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// commandArgv fills the placeholders of a command template. Each argv element is substituted
// on its own and never passed to a shell, so matrix values cannot inject commands.
func commandArgv(sc matrix.ServerConfig, in Instance) ([]string, error) {
	values := map[string]string{
		"port": itoa(in.Port), "tp": itoa(in.TP), "dp": itoa(in.DP), "pp": itoa(sc.PP), "gpus": itoa(len(in.Devices)),
		"batch_size": itoa(sc.BatchSize), "mbt": itoa(sc.MBT), "model": sc.Model, "devices": joinInts(in.Devices, ","),
		"host": "127.0.0.1",
	}
	out := make([]string, len(sc.Settings.Command))
	for i, arg := range sc.Settings.Command {
		s, err := substitute(arg, values)
		if err != nil {
			return nil, fmt.Errorf("server.command[%d] %q: %w", i, arg, err)
		}
		out[i] = s
	}
	return out, nil
}

func substitute(arg string, values map[string]string) (string, error) {
	var b strings.Builder
	for {
		open := strings.IndexByte(arg, '{')
		if open < 0 {
			b.WriteString(arg)
			return b.String(), nil
		}
		end := strings.IndexByte(arg[open:], '}')
		if end < 0 {
			return "", fmt.Errorf("unclosed {")
		}
		name := arg[open+1 : open+end]
		v, ok := values[name]
		if !ok {
			return "", fmt.Errorf("unknown placeholder {%s} (known: port, tp, dp, pp, gpus, batch_size, mbt, model, devices, host)", name)
		}
		b.WriteString(arg[:open])
		b.WriteString(v)
		arg = arg[open+end+1:]
	}
}
