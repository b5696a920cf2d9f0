package cli

import (
	"errors"
	"strconv"
	"time"

	"github.com/spf13/pflag"

	"github.com/llmscale/llmscale/internal/spec"
)

// registerSingleVLLM adds vllm bench serve's names of single's load settings.
func registerSingleVLLM(fs *pflag.FlagSet) {
	fs.String("request-rate", "", "vLLM's name: open-loop requests/s (--rate), or inf with --max-concurrency (a closed loop)")
	fs.Int("max-concurrency", 0, "vLLM's name: with --request-rate R, the in-flight cap (load.max_inflight); else requests in flight (--concurrency)")
	fs.StringSlice("goodput", nil, "vLLM's name: objectives as KEY:MS pairs (ttft, tpot, e2el), e.g. --goodput ttft:500 tpot:50 (the matrix's slo)")
	fs.Float64("burstiness", 1, "vLLM's name: gamma shape of open-loop arrivals; 1 is Poisson, below 1 burstier (load.burstiness)")
	fs.Int64("seed", 0, "seed of every random choice (load.seed)")
	fs.Bool("ignore-eos", true, "ask the server to generate exactly max-tokens (load.ignore_eos)")
}

// singleVLLMSettings turns vLLM's flags of single into matrix settings, with the meaning they
// have in vllm bench serve; a setting given under both names is an error naming both.
func singleVLLMSettings(fs *pflag.FlagSet) ([]spec.Setting, error) {
	var out []spec.Setting
	set := func(key, value, from string) { out = append(out, spec.Setting{Key: key, Value: value, From: from}) }
	rate, inf, err := vllmFlags{requestRate: flagString(fs, "request-rate")}.rate(fs)
	if err != nil {
		return nil, err
	}
	conc := flagString(fs, "max-concurrency")
	switch {
	case fs.Changed("request-rate") && fs.Changed("rate"):
		return nil, conflict("--request-rate", "--rate")
	case fs.Changed("max-concurrency") && fs.Changed("concurrency"):
		return nil, conflict("--max-concurrency", "--concurrency")
	case !inf:
		set("factors.rate", strconv.FormatFloat(rate, 'g', -1, 64), "--request-rate")
		if fs.Changed("max-concurrency") {
			set("load.max_inflight", conc, "--max-concurrency")
		}
	case fs.Changed("max-concurrency") && fs.Changed("rate"):
		set("load.max_inflight", conc, "--max-concurrency")
	case fs.Changed("max-concurrency"):
		set("factors.concurrency", conc, "--max-concurrency")
	case fs.Changed("request-rate"):
		return nil, withCode(errors.New("--request-rate inf sends every request at once: give --max-concurrency N (or --concurrency N)"), ExitUsage)
	}
	if fs.Changed("goodput") {
		pairs, _ := fs.GetStringSlice("goodput")
		slo, err := parseGoodput(pairs)
		if err != nil {
			return nil, err
		}
		for key, d := range map[string]time.Duration{"slo.ttft": slo.TTFT, "slo.tpot": slo.TPOT, "slo.e2e": slo.E2E} {
			if d > 0 {
				set(key, d.String(), "--goodput")
			}
		}
	}
	if fs.Changed("burstiness") {
		b, _ := fs.GetFloat64("burstiness")
		set("load.burstiness", strconv.FormatFloat(b, 'g', -1, 64), "--burstiness")
		if b != 1 {
			set("load.arrival", "gamma", "--burstiness") // vLLM: a burstiness other than 1 draws gamma arrivals
		}
	}
	for flag, key := range map[string]string{"seed": "load.seed", "ignore-eos": "load.ignore_eos"} {
		if fs.Changed(flag) {
			set(key, flagString(fs, flag), "--"+flag)
		}
	}
	return out, nil
}

func flagString(fs *pflag.FlagSet, name string) string {
	if f := fs.Lookup(name); f != nil {
		return f.Value.String()
	}
	return ""
}
