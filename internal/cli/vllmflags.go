package cli

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/llmscale/llmscale/internal/loadgen"
	"github.com/llmscale/llmscale/internal/loadspec"
)

// vllmFlags are vllm bench serve's names for load's settings, with vLLM's meaning
// (vllm/benchmarks/serve.py), so that a vLLM user's command line runs as it is. --model,
// --seed, --ignore-eos and --burstiness have the same names in both tools.
type vllmFlags struct {
	requestRate       string // a number or inf
	maxConcurrency    int
	numPrompts        int
	percentileMetrics string
	metricPercentiles string
	goodput           []string
	saveResult        bool
	saveDetailed      bool
	resultDir         string
	resultFilename    string
	label             string
	baseURL           string
	port              int
	disableTqdm       bool
}

func (v *vllmFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&v.requestRate, "request-rate", "", "vLLM's name: requests/s on an open-loop schedule (--rate), or inf to send "+
		"every request at once, as many in flight as --max-concurrency allows")
	fs.IntVar(&v.maxConcurrency, "max-concurrency", 0, "vLLM's name: most requests in flight; with --request-rate R "+
		"(--max-inflight), else a closed loop of that many (--concurrency)")
	fs.IntVar(&v.numPrompts, "num-prompts", 0, "vLLM's name: end the run after this many requests (all measured: no warm-up "+
		"or cool-down); --run-time, if given, still bounds it")
	fs.StringVar(&v.percentileMetrics, "percentile-metrics", "", "vLLM's name: metrics whose statistics vllm_result.json "+
		"holds, comma-separated, of "+strings.Join(loadgen.VLLMMetricNames(), ", ")+" (default ttft,tpot,itl)")
	fs.StringVar(&v.metricPercentiles, "metric-percentiles", "", "vLLM's name: percentiles in vllm_result.json, comma-separated (default 99)")
	fs.StringSliceVar(&v.goodput, "goodput", nil, "vLLM's name: objectives for goodput as KEY:MS pairs (ttft, tpot, e2el), "+
		"e.g. --goodput ttft:500 tpot:50")
	fs.BoolVar(&v.saveResult, "save-result", false, "vLLM's name: also write vllm_result.json under vLLM's file name, "+
		"in --result-dir (default: the working directory)")
	fs.BoolVar(&v.saveDetailed, "save-detailed", false, "vLLM's name: with --save-result, keep the per-request arrays "+
		"(vllm_result.json in --out always has them)")
	fs.StringVar(&v.resultDir, "result-dir", "", "vLLM's name: folder of --save-result's file")
	fs.StringVar(&v.resultFilename, "result-filename", "", "vLLM's name: file name of --save-result's file")
	fs.StringVar(&v.label, "label", "", "vLLM's name: label of the result (its file name's prefix; default the backend)")
	fs.StringVar(&v.baseURL, "base-url", "", "vLLM's name for --host: the server's base URL")
	fs.IntVar(&v.port, "port", 0, "vLLM's name: the server's port, for a --host given without one")
	fs.BoolVar(&v.disableTqdm, "disable-tqdm", false, "vLLM's name for --quiet")
}

// vllmSettings are the resolved vLLM settings load needs after the run.
type vllmSettings struct {
	metrics     []string
	percentiles []float64
	slo         loadspec.SLO
	resultPath  string // --save-result's file; "" without it
	detailed    bool
	label       string
	numPrompts  int
}

// conflict is the error for one setting given twice under two names.
func conflict(a, b string) error {
	return withHint(withCode(fmt.Errorf("%s and %s set the same thing: give one", a, b), ExitUsage),
		"%s is vllm bench serve's name; docs/vllm.md lists each of them beside llmscale's", a)
}

// applyVLLM turns vLLM's flags into load's own settings, refusing a setting given under both
// names and values vLLM itself refuses. It runs after the environment filled f.
func (v vllmFlags) apply(fs *pflag.FlagSet, f *loadFlags, s settings) (vllmSettings, error) {
	var out vllmSettings
	f.aliasModes = map[loadspec.Mode]string{}
	for _, step := range []func(*pflag.FlagSet, *loadFlags, settings, *vllmSettings) error{
		v.applyHost, v.applyMode, v.applyCount, v.applyBurstiness, v.applyStats, v.applyResult,
	} {
		if err := step(fs, f, s, &out); err != nil {
			return out, err
		}
	}
	if v.disableTqdm {
		f.quiet = true
	}
	return out, nil
}

func (v vllmFlags) applyHost(fs *pflag.FlagSet, f *loadFlags, s settings, _ *vllmSettings) error {
	if fs.Changed("base-url") {
		if fs.Changed("host") {
			return conflict("--base-url", "--host")
		}
		f.hosts = []string{v.baseURL}
	}
	if !fs.Changed("port") {
		return nil
	}
	if v.port <= 0 || v.port > 65535 {
		return withCode(fmt.Errorf("--port %d: want a port between 1 and 65535", v.port), ExitUsage)
	}
	hosts := targets(f.hosts, s.lookup("VLLM_HOST"))
	for i, h := range hosts {
		u, err := url.Parse(h)
		if err != nil || u.Host == "" {
			return withCode(fmt.Errorf("--port %d: host %q is not a URL", v.port, h), ExitUsage)
		}
		if p := u.Port(); p != "" && p != strconv.Itoa(v.port) {
			return withCode(fmt.Errorf("--port %d, but the host %s names port %s: give one", v.port, h, p), ExitUsage)
		}
		u.Host = u.Hostname() + ":" + strconv.Itoa(v.port)
		hosts[i] = u.String()
	}
	f.hosts = hosts
	return nil
}

// applyMode maps --request-rate and --max-concurrency onto load's modes as vLLM means them:
// a finite rate is the open loop, with --max-concurrency its in-flight cap; inf (vLLM's
// default) sends every request at once, --max-concurrency of them in flight: a closed loop.
func (v vllmFlags) applyMode(fs *pflag.FlagSet, f *loadFlags, _ settings, _ *vllmSettings) error {
	rate, inf, err := v.rate(fs)
	if err != nil {
		return err
	}
	switch {
	case fs.Changed("request-rate") && fs.Changed("rate"):
		return conflict("--request-rate", "--rate")
	case !inf:
		f.rate, f.aliasModes[loadspec.ModeRate] = rate, "--request-rate"
		if fs.Changed("max-concurrency") {
			if fs.Changed("max-inflight") {
				return conflict("--max-concurrency", "--max-inflight")
			}
			f.maxInflight = v.maxConcurrency
		}
		return nil
	}
	if fs.Changed("max-concurrency") && fs.Changed("concurrency") {
		return conflict("--max-concurrency", "--concurrency")
	}
	if fs.Changed("max-concurrency") {
		if fs.Changed("rate") {
			f.maxInflight = v.maxConcurrency // vLLM's inf rate is not given: --rate is the schedule
			return nil
		}
		f.concurrency, f.aliasModes[loadspec.ModeConcurrency] = v.maxConcurrency, "--max-concurrency"
	}
	if fs.Changed("request-rate") && !fs.Changed("max-concurrency") && !fs.Changed("concurrency") {
		if !fs.Changed("num-prompts") {
			return withHint(withCode(errors.New("--request-rate inf sends every request at once: give --max-concurrency N "+
				"(or --concurrency N), or --num-prompts N"), ExitUsage), "vllm bench serve sends --num-prompts (default 1000) requests")
		}
		f.concurrency, f.aliasModes[loadspec.ModeConcurrency] = v.numPrompts, "--request-rate inf --num-prompts"
	}
	return nil
}

// rate parses --request-rate: a positive number, or inf; not given is vLLM's inf.
func (v vllmFlags) rate(fs *pflag.FlagSet) (rate float64, inf bool, err error) {
	if !fs.Changed("request-rate") {
		return 0, true, nil
	}
	x, err := strconv.ParseFloat(strings.TrimSpace(v.requestRate), 64)
	if err != nil || !(x > 0) {
		return 0, false, withHint(withCode(fmt.Errorf("--request-rate %q: want a positive number of requests/s, or inf",
			v.requestRate), ExitUsage), "vLLM's default, inf, sends every request at once")
	}
	return x, math.IsInf(x, 1), nil
}

// applyCount is --num-prompts: the run ends after N requests, every one of them measured.
func (v vllmFlags) applyCount(fs *pflag.FlagSet, f *loadFlags, s settings, out *vllmSettings) error {
	if !fs.Changed("num-prompts") {
		return nil
	}
	if v.numPrompts <= 0 {
		return withCode(fmt.Errorf("--num-prompts %d: want a positive number of requests", v.numPrompts), ExitUsage)
	}
	for _, x := range []struct{ flag, env string }{{"warmup", "LLMSCALE_WARMUP"}, {"cooldown", "LLMSCALE_COOLDOWN"}} {
		if fs.Changed(x.flag) || strings.TrimSpace(s.lookup(x.env)) != "" {
			return withHint(withCode(fmt.Errorf("--num-prompts counts every request it sends, so it takes no --%s (%s)", x.flag, x.env),
				ExitUsage), "drop --%s, or bound the run by time with --run-time instead of --num-prompts", x.flag)
		}
	}
	f.warmup, f.cooldown = 0, 0
	if !fs.Changed("run-time") && strings.TrimSpace(s.lookup("RUN_TIME")) == "" {
		f.runTime = loadgen.NoTimeLimit
	}
	out.numPrompts = v.numPrompts
	// vLLM's default rate is inf: with no load mode given at all, every request goes at once.
	if len(f.aliasModes) == 0 && !fs.Changed("users") && !fs.Changed("concurrency") && !fs.Changed("rate") &&
		f.users == 0 && f.concurrency == 0 && f.rate == 0 {
		f.concurrency, f.aliasModes[loadspec.ModeConcurrency] = v.numPrompts, "--num-prompts"
	}
	return nil
}

// applyBurstiness follows vLLM: a burstiness other than 1 draws gamma arrivals. An arrival
// process given as well must be gamma.
func (v vllmFlags) applyBurstiness(fs *pflag.FlagSet, f *loadFlags, _ settings, _ *vllmSettings) error {
	if !fs.Changed("burstiness") || f.burstiness == 1 {
		return nil
	}
	if fs.Changed("arrival") && f.arrival != "gamma" {
		return withHint(withCode(fmt.Errorf("--burstiness %g shapes gamma arrivals, but --arrival is %s", f.burstiness, f.arrival), ExitUsage),
			"drop --arrival, or give --arrival gamma")
	}
	f.arrival = "gamma"
	return nil
}

// applyStats parses --percentile-metrics, --metric-percentiles and --goodput.
func (v vllmFlags) applyStats(fs *pflag.FlagSet, _ *loadFlags, _ settings, out *vllmSettings) error {
	if fs.Changed("percentile-metrics") {
		for _, m := range strings.Split(v.percentileMetrics, ",") {
			m = strings.TrimSpace(m)
			if !slices.Contains(loadgen.VLLMMetricNames(), m) {
				return withCode(fmt.Errorf("--percentile-metrics: %q is not one of %s", m, strings.Join(loadgen.VLLMMetricNames(), ", ")), ExitUsage)
			}
			out.metrics = append(out.metrics, m)
		}
	}
	if fs.Changed("metric-percentiles") {
		for _, p := range strings.Split(v.metricPercentiles, ",") {
			x, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
			if err != nil || x < 0 || x > 100 {
				return withCode(fmt.Errorf("--metric-percentiles: %q is not a percentile between 0 and 100", p), ExitUsage)
			}
			out.percentiles = append(out.percentiles, x)
		}
	}
	slo, err := parseGoodput(v.goodput)
	out.slo = slo
	return err
}

// parseGoodput reads vLLM's --goodput KEY:VALUE pairs, values in milliseconds.
func parseGoodput(pairs []string) (loadspec.SLO, error) {
	var slo loadspec.SLO
	seen := map[string]bool{}
	for _, pair := range pairs {
		key, val, ok := strings.Cut(strings.TrimSpace(pair), ":")
		ms, err := strconv.ParseFloat(val, 64)
		bad := func(why string) error {
			return withHint(withCode(fmt.Errorf("--goodput %q: %s", pair, why), ExitUsage),
				"give KEY:MILLISECONDS pairs with KEY ttft, tpot or e2el, e.g. --goodput ttft:500 tpot:50")
		}
		switch {
		case !ok || err != nil || math.IsInf(ms, 0):
			return slo, bad("want KEY:MILLISECONDS")
		case seen[key]:
			return slo, bad(key + " is given twice")
		case !(ms > 0):
			return slo, bad("an objective of 0 ms or less is one no request meets; give a positive number of milliseconds")
		case ms > float64(math.MaxInt64/int64(time.Millisecond)):
			return slo, bad("more milliseconds than a duration holds")
		}
		seen[key] = true
		d := time.Duration(ms * float64(time.Millisecond))
		switch key {
		case "ttft":
			slo.TTFT = d
		case "tpot":
			slo.TPOT = d
		case "e2el":
			slo.E2E = d
		default:
			return slo, bad(fmt.Sprintf("%q is not ttft, tpot or e2el", key))
		}
	}
	return slo, nil
}

// applyResult checks --save-result and its file's flags; the name is completed after the run.
func (v vllmFlags) applyResult(fs *pflag.FlagSet, _ *loadFlags, _ settings, out *vllmSettings) error {
	out.detailed, out.label = v.saveDetailed, v.label
	if !v.saveResult {
		for _, name := range []string{"result-dir", "result-filename", "save-detailed"} {
			if fs.Changed(name) {
				return withHint(withCode(fmt.Errorf("--%s is for --save-result's file, and --save-result is not given", name), ExitUsage),
					"add --save-result (vllm_result.json in --out is written either way)")
			}
		}
		return nil
	}
	if strings.ContainsRune(v.resultFilename, filepath.Separator) && fs.Changed("result-dir") {
		return withCode(fmt.Errorf("--result-filename %q names a folder, and so does --result-dir %q: give the folder once",
			v.resultFilename, v.resultDir), ExitUsage)
	}
	out.resultPath = filepath.Join(v.resultDir, v.resultFilename)
	if v.resultFilename == "" {
		out.resultPath = filepath.Join(v.resultDir, "{vllm}") // vLLM's name, known after the run
	}
	return nil
}

// vllmFileName is vLLM's result file name: {label}-{rate}qps[-concurrency{N}]-{model}-{date}.json.
func vllmFileName(label string, api loadspec.API, rate float64, maxConcurrency int, model string, date time.Time) string {
	if label == "" {
		label = "openai"
		if api == loadspec.APIChat {
			label = "openai-chat"
		}
	}
	r := "inf"
	if !math.IsInf(rate, 1) && rate > 0 {
		r = pyFloat(rate)
	}
	conc := ""
	if maxConcurrency > 0 {
		conc = fmt.Sprintf("-concurrency%d", maxConcurrency)
	}
	base := model[strings.LastIndex(model, "/")+1:]
	return fmt.Sprintf("%s-%sqps%s-%s-%s.json", label, r, conc, base, date.Format("20060102-150405"))
}

// pyFloat writes a float as Python's str does for the rates people give (10.0, 2.5).
func pyFloat(x float64) string {
	s := strconv.FormatFloat(x, 'f', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return s
}

// joinGoodput lets --goodput take its pairs as separate words, as vLLM's (nargs="+") does:
// `--goodput ttft:500 tpot:50` becomes `--goodput ttft:500,tpot:50`. A word joins while it is
// a KEY:VALUE pair, so a positional argument after the pairs stays one.
func joinGoodput(args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		out = append(out, a)
		if a == "--" {
			return append(out, args[i+1:]...)
		}
		var pairs []string
		switch {
		case a == "--goodput" && i+1 < len(args):
			i++
			pairs = []string{args[i]}
			out = append(out, "")
		case strings.HasPrefix(a, "--goodput="):
			pairs = []string{strings.TrimPrefix(a, "--goodput=")}
			out[len(out)-1] = "--goodput"
			out = append(out, "")
		default:
			continue
		}
		for i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") && strings.Contains(args[i+1], ":") {
			i++
			pairs = append(pairs, args[i])
		}
		out[len(out)-1] = strings.Join(pairs, ",")
	}
	return out
}

// writeVLLMResults writes vllm_result.json into load's folder, from the request files just
// written, and with --save-result a copy under vLLM's file name (without --save-detailed,
// as vLLM does, without the per-request arrays).
func writeVLLMResults(env Env, p loadPlan, sum loadgen.Summary, files []string) error {
	o := vllmOptions(p, sum, env.now())
	from := p.cfg.Warmup
	path := filepath.Join(p.out, loadgen.VLLMResultFile)
	if err := loadgen.WriteVLLMResult(path, files, from, from+sum.Window, o); err != nil {
		return withCode(fmt.Errorf("vllm_result.json: %w", err), ExitFailed)
	}
	if p.vllm.resultPath == "" {
		return nil
	}
	dst := p.vllm.resultPath
	if filepath.Base(dst) == "{vllm}" {
		dst = filepath.Join(filepath.Dir(dst), vllmFileName(p.vllm.label, p.cfg.API, o.RequestRate, o.MaxConcurrency, p.cfg.Model, o.Date))
	}
	dst = env.path(dst)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return withCode(fmt.Errorf("--result-dir: %w", err), ExitFailed)
	}
	o.Detailed = p.vllm.detailed
	if err := loadgen.WriteVLLMResult(dst, files, from, from+sum.Window, o); err != nil {
		return withCode(err, ExitFailed)
	}
	fmt.Fprintf(env.Stderr, "llmscale: wrote %s\n", dst)
	return nil
}

// vllmOptions describes load's run in vLLM's terms: a closed loop is vLLM's inf rate with
// its concurrency (or its users) as max_concurrency; an open loop's in-flight cap is too.
func vllmOptions(p loadPlan, sum loadgen.Summary, now time.Time) loadgen.VLLMOptions {
	c := p.cfg
	o := loadgen.VLLMOptions{Date: now, API: c.API, Label: p.vllm.label, ModelID: c.Model, NumPrompts: c.MaxRequests,
		RequestRate: math.Inf(1), Burstiness: 1, Metrics: p.vllm.metrics, Percentiles: p.vllm.percentiles, SLO: c.SLO,
		Detailed: true, Metadata: map[string]any{"exp_id": c.ExperimentID}}
	switch c.Mode {
	case loadspec.ModeRate:
		o.RequestRate, o.MaxConcurrency, o.Burstiness = c.Rate, c.MaxInflight, sum.Burstiness
		if c.Arrival == "constant" {
			o.Burstiness = math.Inf(1) // vLLM's burstiness for evenly spaced arrivals
		}
	case loadspec.ModeConcurrency:
		o.MaxConcurrency = c.Concurrency
	case loadspec.ModeUsers:
		o.MaxConcurrency = c.Users
	}
	return o
}
