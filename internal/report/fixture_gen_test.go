package report

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/llmscale/llmscale/internal/fit"
	"github.com/llmscale/llmscale/internal/reportdata"
	"github.com/llmscale/llmscale/internal/resultstree"
)

// The fixture (testdata/report/fixture.json) is a whole campaign made up from a small
// performance model: three scaling series (TP-only and DP-only on medium prompts at 1-2-4-8
// GPUs, DP-only on short prompts at 1…8 GPUs so that USL is fitted), load sweeps of every
// configuration, a failed experiment, one without GPU telemetry and one without server
// metrics. It is regenerated with
//
//	go test ./internal/report -run TestFixture -update-fixture
//
// and then is the input of the golden tests; the generator is not run otherwise.

// genConfig is one server configuration of the made-up campaign.
type genConfig struct {
	tp, dp int
	peak   float64 // saturation output tokens/s
	half   float64 // users at half the peak
	open   bool    // never judged saturated (the load was too small)
}

func (c genConfig) gpus() int { return c.tp * c.dp }

func (c genConfig) name() string {
	return fmt.Sprintf("TP %d × DP %d · max-num-seqs 256", c.tp, c.dp)
}

type fixtureGen struct {
	rng  *rand.Rand
	exps []reportdata.Experiment
	t0   time.Time
}

func generateFixture() reportdata.Data {
	g := &fixtureGen{rng: rand.New(rand.NewPCG(7, 11)), t0: time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC)}
	const x1 = 2400.0
	tp := []genConfig{{1, 1, x1, 40, false}, {2, 1, x1 * 1.9, 40, false}, {4, 1, x1 * 3.2, 40, false}, {8, 1, x1 * 4.3, 40, false}}
	dp := []genConfig{{1, 2, x1 * 1.93, 40, false}, {1, 4, x1 * 3.6, 40, false}, {1, 8, x1 * 6.2, 40, true}}
	var curves []reportdata.LoadCurve
	for _, c := range append(tp, dp...) {
		curves = append(curves, g.sweep(c, "medium", 128, []int{8, 32, 128, 512}))
	}
	short := []genConfig{{1, 1, x1 * 1.3, 10, false}}
	for n := 2; n <= 8; n++ {
		x := x1 * 1.3 * float64(n) / (1 + 0.04*float64(n-1) + 0.006*float64(n*(n-1)))
		short = append(short, genConfig{1, n, x, 10, false})
	}
	for _, c := range short {
		g.experiment(c, "short", 64, 512, 1)
	}
	g.addOddities()
	d := reportdata.Data{Campaign: fixtureCampaign(g.t0), LoadCurves: curves}
	d.Series = []reportdata.Series{
		g.series("TP-only · medium · 128 tok", "tp", "medium", 128, tp, tpVerdict()),
		g.series("DP-only · medium · 128 tok", "dp", "medium", 128, append(tp[:1:1], dp...), hostVerdict()),
		g.series("DP-only · short · 64 tok", "dp", "short", 64, short, kvVerdict()),
	}
	d.Experiments = g.exps
	d.Campaign.Done, d.Campaign.Failed = len(g.exps)-1, 1
	d.Campaign.Planned = len(g.exps) + 2
	return d
}

func fixtureCampaign(t0 time.Time) reportdata.Campaign {
	gpus := make([]string, 8)
	for i := range gpus {
		gpus[i] = "NVIDIA H100 80GB HBM3"
	}
	return reportdata.Campaign{
		Name: "llama3-8b-scaling", Model: "NousResearch/Meta-Llama-3-8B-Instruct", Engine: "vllm",
		GPUs: gpus, Interconnect: "NVLink 4 (NV18) between every pair of GPUs",
		Versions: []reportdata.NameValue{{Name: "llmscale", Value: "v0.1.0 (3cbf825)"}, {Name: "vllm", Value: "0.9.1"}, {Name: "CUDA driver", Value: "570.124.06"}},
		Host:     "gpu-node-01", MatrixFile: "config/experiment_matrix.yaml",
		MatrixYAML: "campaign: llama3-8b-scaling\nengine: vllm\nmodel: NousResearch/Meta-Llama-3-8B-Instruct\n" +
			"factors:\n  gpus: [1, 2, 4, 8]\n  tp: [1, 2, 4, 8]\n  dp: [1, 2, 4, 8]\n  users: [16, 64, 256]\n" +
			"  prompts: [short, medium]\n  max_tokens: [128]\n  batch_size: [256]\n  mbt: [8192]\n" +
			"rules:\n  require:\n    - tp * dp * pp == gpus\nrepeats: 3\n",
		Start: t0, End: t0.Add(3*time.Hour + 41*time.Minute),
	}
}

// sweep measures one configuration at several user counts.
func (g *fixtureGen) sweep(c genConfig, prompts string, maxTok int, users []int) reportdata.LoadCurve {
	lc := reportdata.LoadCurve{Config: c.name(), LoadKind: "users"}
	for _, u := range users {
		e := g.experiment(c, prompts, maxTok, u, 1)
		lc.Points = append(lc.Points, reportdata.LoadPoint{
			Load: float64(u), Throughput: e.Summary.OutputThroughput,
			TTFTP50: e.Summary.TTFT.P50, TPOTP50: e.Summary.TPOT.P50, ExpID: e.ID,
		})
	}
	for _, u := range users { // the first level at 3/4 of the peak
		if float64(u)/(float64(u)+c.half) >= 0.75 {
			lc.Saturation = reportdata.Opt(float64(u))
			break
		}
	}
	return lc
}

// experiment makes up one experiment of configuration c at u users.
func (g *fixtureGen) experiment(c genConfig, prompts string, maxTok, u, repeat int) reportdata.Experiment {
	id := fmt.Sprintf("e%03d-tp%d-dp%d-u%d-%s", len(g.exps)+1, c.tp, c.dp, u, prompts)
	frac := float64(u) / (float64(u) + c.half)
	thr := c.peak * frac * (1 + 0.01*g.rng.NormFloat64())
	tp := float64(c.tp)
	tpot := (12 + 18*frac) * (0.5 + 0.5/tp) * (1 + 0.06*(tp-1))
	ttft := 40 + 900*math.Max(0, frac-0.55)*float64(u)/64/math.Sqrt(float64(c.gpus()))
	e := reportdata.Experiment{
		ID: id, Config: c.name(), Status: reportdata.StatusDone,
		Factors: reportdata.Factors{GPUs: c.gpus(), TP: c.tp, DP: c.dp, PP: 1, Mode: "users", Users: u,
			Prompts: prompts, MaxTokens: maxTok, BatchSize: 256, MBT: 8192, Repeat: repeat},
	}
	e2e := ttft + tpot*float64(maxTok-1)
	e.Summary = &reportdata.Summary{
		Completed: int(thr / float64(maxTok) * 180), RequestThroughput: thr / float64(maxTok),
		OutputThroughput: thr, OutputThroughputPerGPU: thr / float64(c.gpus()), TokensPerUser: 1000 / tpot,
		TTFT: g.latency(ttft), TPOT: g.latency(tpot), ITL: g.latency(tpot * 0.98), E2E: g.latency(e2e),
		Saturated: frac > 0.75 && !c.open,
	}
	if u >= 64 {
		e.Summary.Goodput = reportdata.Opt(reportdata.Round(e.Summary.RequestThroughput*0.97, 3))
	}
	e.TTFT = g.cdf(ttft, 0.6)
	e.ITL = g.cdf(tpot*0.98, 0.25)
	e.E2E = g.cdf(e2e, 0.2)
	e.Timeline = g.timeline(c, u, thr/float64(maxTok))
	e.Diagnosis = diagnosis(c, u, frac)
	g.exps = append(g.exps, e)
	return e
}

func (g *fixtureGen) latency(median float64) reportdata.Latency {
	return reportdata.Latency{Mean: reportdata.Round(median*1.08, 2), P50: reportdata.Round(median, 2), P90: reportdata.Round(median*1.6, 2), P99: reportdata.Round(median*2.4, 2)}
}

// cdf draws 400 log-normal latencies around a median and keeps 40 quantiles.
func (g *fixtureGen) cdf(median, sigma float64) reportdata.CDF {
	xs := make([]float64, 400)
	for i := range xs {
		xs[i] = median * math.Exp(sigma*g.rng.NormFloat64())
	}
	c := reportdata.CDFFromSamples(xs, 40)
	for i := range c.Ms {
		c.Ms[i], c.P[i] = reportdata.Round(c.Ms[i], 2), reportdata.Round(c.P[i], 5)
	}
	return c
}

// timeline makes 48 samples over 120 s: ramp-up, steady state, cool-down.
func (g *fixtureGen) timeline(c genConfig, u int, rps float64) *reportdata.Timeline {
	const n = 48
	capacity := 256 * c.dp
	t := &reportdata.Timeline{MeasureFrom: reportdata.Opt(20), MeasureTo: reportdata.Opt(100)}
	for i := range n {
		s := float64(i) * 2.5
		ramp := math.Min(1, s/15)
		if s > 105 {
			ramp = math.Max(0, 1-(s-105)/12)
		}
		active := float64(u) * ramp
		running := math.Min(active, float64(capacity))
		noise := 1 + 0.04*g.rng.NormFloat64()
		t.OffsetS = append(t.OffsetS, s)
		t.Running = append(t.Running, reportdata.Round(running*noise, 1))
		t.Waiting = append(t.Waiting, reportdata.Round(math.Max(0, active-float64(capacity)), 1))
		t.KVUsage = append(t.KVUsage, reportdata.Round(math.Min(0.99, running/float64(capacity)*0.9*noise), 3))
		t.GPUUtil = append(t.GPUUtil, reportdata.Round(math.Min(100, 20+75*ramp*float64(u)/(float64(u)+c.half)*noise), 1))
		t.RequestRate = append(t.RequestRate, reportdata.Round(rps*ramp*noise, 2))
	}
	t.Running[17] = math.NaN() // a missed scrape: a gap in the lines
	return t
}

func diagnosis(c genConfig, u int, frac float64) *reportdata.Verdict {
	if frac < 0.5 {
		return &reportdata.Verdict{Code: "not_saturated", Label: "Server not saturated",
			Sentence: "The load did not fill the server: nothing queued and running requests stayed far below the batch cap, so this throughput measures the test, not the server.",
			Evidence: []reportdata.Evidence{
				{Name: "waiting requests, mean", Value: "0.0", Threshold: "> 1", Holds: false},
				{Name: "running / batch cap", Value: fmt.Sprintf("%.0f %%", 100*float64(u)/float64(256*c.dp)), Threshold: "≥ 90 %", Holds: false},
				{Name: "GPU utilisation, mean", Value: fmt.Sprintf("%.0f %%", 20+75*frac), Threshold: "< 60 %", Holds: true},
			}}
	}
	if c.tp > 1 {
		return &reportdata.Verdict{Code: "tp_communication", Label: "TP communication",
			Sentence: fmt.Sprintf("Tensor parallelism over %d GPUs spends a growing share of each step in all-reduce: TPOT rises with TP while GPUs stay busy.", c.tp),
			Evidence: []reportdata.Evidence{
				{Name: "TPOT p50 vs TP 1", Value: fmt.Sprintf("+%.0f %%", 8*float64(c.tp)), Threshold: "> +10 %", Holds: c.tp > 1},
				{Name: "GPU utilisation, mean", Value: "93 %", Threshold: "≥ 80 %", Holds: true},
			}}
	}
	return &reportdata.Verdict{Code: "batch_cap", Label: "Batch cap reached",
		Sentence: "Running requests sat at max-num-seqs while the queue grew: the batch cap limits throughput at this load.",
		Evidence: []reportdata.Evidence{
			{Name: "running / batch cap, p90", Value: "100 %", Threshold: "≥ 95 %", Holds: true},
			{Name: "waiting requests, mean", Value: fmt.Sprintf("%d", max(0, u-256*c.dp)), Threshold: "> 1", Holds: u > 256*c.dp},
		}}
}

// series fits the saturation experiments (512 users, every repeat) of the configurations.
func (g *fixtureGen) series(name, strategy, prompts string, maxTok int, cs []genConfig, v reportdata.Verdict) reportdata.Series {
	fs := fit.Series{Name: name}
	ids, sat := map[int][]string{}, map[int]bool{}
	for _, c := range cs {
		n := c.gpus()
		sat[n] = true
		for _, e := range g.exps {
			f := e.Factors
			if e.Status != reportdata.StatusDone || f.TP != c.tp || f.DP != c.dp || f.Users != 512 || f.Prompts != prompts {
				continue
			}
			fs.Points = append(fs.Points, fit.Point{GPUs: n, Throughput: e.Summary.OutputThroughput, Repeat: f.Repeat})
			ids[n] = append(ids[n], e.ID)
			sat[n] = sat[n] && e.Summary.Saturated
		}
	}
	res, err := fit.Analyze(fs, rand.New(rand.NewPCG(1, 2)), fit.Options{Resamples: 400})
	if err != nil {
		panic(err)
	}
	s := resultstree.FromFit(res)
	s.Strategy, s.Prompts, s.MaxTokens, s.Verdict = strategy, prompts, maxTok, v
	for i, p := range s.Points {
		s.Points[i].Saturated, s.Points[i].ExpIDs = sat[p.GPUs], ids[p.GPUs]
	}
	return s
}

// addOddities adds a failed experiment, one without GPU telemetry and one without server
// metrics.
func (g *fixtureGen) addOddities() {
	c := genConfig{2, 4, 2400 * 6.6, 40, false}
	g.exps = append(g.exps, reportdata.Experiment{
		ID: fmt.Sprintf("e%03d-tp2-dp4-u512-medium", len(g.exps)+1), Config: c.name(), Status: reportdata.StatusFailed,
		Factors: reportdata.Factors{GPUs: 8, TP: 2, DP: 4, PP: 1, Mode: "users", Users: 512, Prompts: "medium", MaxTokens: 128, BatchSize: 256, MBT: 8192, Repeat: 1},
		Reason: "server did not become ready within 20m0s: CUDA out of memory while capturing CUDA graphs (tried to allocate 2.00 GiB; GPU 3 has 1.12 GiB free)\n" +
			"last log line: torch.OutOfMemoryError: CUDA out of memory.",
	})
	// Second repeats of two saturation experiments: one without GPU telemetry, one without
	// server metrics.
	e := g.experiment(genConfig{1, 2, 2400 * 1.93, 40, false}, "medium", 128, 512, 2)
	g.exps[len(g.exps)-1].Timeline.GPUUtil = nil
	e.Diagnosis.Evidence = append(e.Diagnosis.Evidence,
		reportdata.Evidence{Name: "GPU telemetry", Value: "absent (nvidia-smi not found)", Threshold: "present"})
	g.experiment(genConfig{1, 4, 2400 * 3.6, 40, false}, "medium", 128, 512, 2)
	g.exps[len(g.exps)-1].Timeline = nil
}

func tpVerdict() reportdata.Verdict {
	return reportdata.Verdict{Code: "tp_communication", Label: "TP communication",
		Sentence: "Tensor parallelism scales worse than data parallelism at the same GPU count (4.3× against 6.2× at 8 GPUs): all-reduce between GPUs costs a growing share of every step.",
		Evidence: []reportdata.Evidence{
			{Name: "TP 8 / DP 8 throughput", Value: "0.69", Threshold: "< 0.85", Holds: true},
			{Name: "Karp–Flatt trend", Value: "rising", Threshold: "rising", Holds: true},
			{Name: "interconnect", Value: "NVLink", Threshold: "PCIe makes it worse", Holds: false},
		}}
}

func hostVerdict() reportdata.Verdict {
	return reportdata.Verdict{Code: "api_server_bound", Label: "API server bound",
		Sentence: "Data-parallel ranks wait on the single API-server process: its per-request CPU work is serial, so the engines idle while requests queue in front of it.",
		Evidence: []reportdata.Evidence{
			{Name: "API-server CPU, DP 8", Value: "98 %", Threshold: "≥ 90 %", Holds: true},
			{Name: "GPU utilisation, DP 8", Value: "61 %", Threshold: "< 70 %", Holds: true},
		}}
}

func kvVerdict() reportdata.Verdict {
	return reportdata.Verdict{Code: "kv_cache", Label: "KV cache full",
		Sentence: "Beyond 5 GPUs the KV cache of every rank is full and requests are preempted: adding ranks adds coordination without adding useful batch.",
		Evidence: []reportdata.Evidence{
			{Name: "KV-cache usage, p95", Value: "0.99", Threshold: "≥ 0.95", Holds: true},
			{Name: "preemptions per 1000 requests", Value: "37", Threshold: "> 0", Holds: true},
		}}
}
