package campaign

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/llmscale/llmscale/internal/gpu"
	"github.com/llmscale/llmscale/internal/host"
	"github.com/llmscale/llmscale/internal/loadgen"
	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/matrix"
	"github.com/llmscale/llmscale/internal/promscrape"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/spec"
	"github.com/llmscale/llmscale/internal/workload"
)

// runServer runs the experiments of one server configuration on one server start (restarting
// it only if it dies), and returns how many finished and failed.
func (r *Runner) runServer(ctx context.Context, exps []matrix.Experiment) (done, failed int) {
	sc := exps[0].Server
	r.prog.server("%s: starting (%s)", sc.ID, sc.Engine)
	set, err := r.startWithRetries(ctx, sc)
	defer func() {
		if set != nil {
			set.stop()
			r.prog.server("%s: stopped", sc.ID)
		}
	}()
	for i, e := range exps {
		if ctx.Err() != nil {
			return done, failed
		}
		if set == nil {
			failed += r.failAll(exps[i:], "server did not start: "+firstLine(err), err.Error())
			return done, failed
		}
		var rec results.Experiment
		rec, set = r.experimentWithRetries(ctx, set, e, i == 0)
		if rec.Status == results.StatusDone {
			r.noteKnee(e)
			done++
		} else {
			failed++
		}
	}
	return done, failed
}

// failAll records experiments that could not run, with the reason.
func (r *Runner) failAll(exps []matrix.Experiment, reason, detail string) int {
	for _, e := range exps {
		rec := r.newRecord(e, nil)
		rec.Status, rec.Reason, rec.LogTail = results.StatusFailed, reason, detail
		r.save(e, rec)
		r.prog.finished(e, rec, nil, 0)
	}
	return len(exps)
}

// experimentWithRetries runs one experiment, again on failure as server.retries allows,
// restarting the server first if it died. It returns the record and the server the next
// experiment runs on: set, or the one started in its place.
func (r *Runner) experimentWithRetries(ctx context.Context, set *serverSet, e matrix.Experiment, first bool) (results.Experiment, *serverSet) {
	var rec results.Experiment
	for attempt := 1; attempt <= 1+e.Server.Settings.Retries; attempt++ {
		if set.alive() != nil && ctx.Err() == nil {
			set.stop()
			r.prog.server("%s died; restarting it", e.Server.ID)
			restarted, err := r.startWithRetries(ctx, e.Server)
			if err != nil {
				rec = r.newRecord(e, set)
				rec.Status, rec.Reason, rec.LogTail = results.StatusFailed, "server could not be restarted: "+firstLine(err), err.Error()
				r.save(e, rec)
				return rec, set
			}
			set, first = restarted, true
		}
		r.prog.starting(e, attempt)
		start := time.Now()
		var sum *loadgen.Summary
		rec, sum = r.runOne(ctx, set, e, first, attempt)
		r.prog.finished(e, rec, sum, time.Since(start))
		if rec.Status == results.StatusDone || ctx.Err() != nil {
			break
		}
		first = false
	}
	return rec, set
}

// runExperiment runs one experiment against a ready server and records it.
func (r *Runner) runExperiment(ctx context.Context, set *serverSet, e matrix.Experiment, first bool, attempt int) (results.Experiment, *loadgen.Summary) {
	dir := results.Dir(r.opts.Results, e.ID)
	rec := r.newRecord(e, set)
	rec.Attempts = attempt
	fail := func(reason string, err error) (results.Experiment, *loadgen.Summary) {
		rec.Status, rec.Reason, rec.EndedAt = results.StatusFailed, reason, r.opts.Now().UTC()
		if err != nil {
			rec.LogTail = err.Error()
		}
		r.save(e, rec)
		return rec, nil
	}
	if err := freshDir(dir); err != nil {
		return fail("results folder: "+err.Error(), nil)
	}
	run, sweepInfo, err := r.sweepLoad(e)
	rec.Load.Sweep, rec.Load.Concurrency, rec.Load.Rate = sweepInfo, run.Load.Concurrency, run.Load.Rate
	r.save(e, rec)
	if err != nil {
		return fail(err.Error(), nil)
	}
	ct, err := r.tokenizer(e.Load.Tokenizer)
	if err != nil {
		return fail(err.Error(), nil)
	}
	opts := workload.Options{TextOnly: e.Load.API == loadspec.APIChat}
	tokVocab := 0
	if ct != nil {
		opts.Tokenizer, tokVocab = ct.tok, ct.tok.VocabSize()
		rec.Load.Tokenizer, rec.Load.TokenizerSHA256 = e.Load.Tokenizer, ct.sha256
	}
	vocab, err := promptVocab(e, set, tokVocab)
	if err != nil {
		return fail(err.Error(), nil)
	}
	rec.Load.VocabSize, rec.Load.VocabSource = vocab.size, vocab.source
	opts.VocabSize = vocab.size
	prompts, err := workload.Load(e.Load.Prompts, rand.New(rand.NewPCG(uint64(*e.Load.Settings.Seed), 7)), opts)
	if err != nil {
		return fail("prompts: "+err.Error(), nil)
	}
	rec.PromptCache = "fresh server start"
	if !first {
		rec.PromptCache = set.resetPromptCache(ctx, r.opts.Client)
		if strings.HasPrefix(rec.PromptCache, "not reset") {
			fmt.Fprintf(r.opts.Log, "  note: prompt cache %s\n", rec.PromptCache)
		}
	}
	logFrom := set.logSizes()
	sum, loadErr := r.measure(ctx, set, run, prompts, dir, &rec)
	r.recordSpans(ctx, set, e.ID, dir, func(s string) { rec.Telemetry = append(rec.Telemetry, s) })
	if errors.Is(loadErr, loadgen.ErrTargetDown) {
		set.awaitExit(exitNoticeWait) // a refused replica has usually died: let its exit be seen and its log kept
	}
	if err := copyLogs(set, logFrom, filepath.Join(dir, results.ServerLogFile)); err != nil {
		rec.Telemetry = append(rec.Telemetry, "server.log: "+err.Error())
	}
	rec.EndedAt = r.opts.Now().UTC()
	if crashed := set.alive(); crashed != nil {
		return fail("server crashed during the experiment", crashed)
	}
	if sum.ExperimentID != "" {
		rec.Client = &results.ClientInfo{ClientFailures: sum.ClientFailures, HostCPUUtil: sum.HostCPUUtil,
			HostSteal: sum.HostSteal, HostContended: sum.HostContended, HostSharers: sum.HostSharers}
	}
	switch {
	case ctx.Err() != nil || sum.Interrupted:
		return fail("interrupted", nil)
	case errors.Is(loadErr, loadgen.ErrTargetDown):
		return fail("a replica refused connections, so the load stopped: "+loadErr.Error(), loadErr)
	case sum.MostFailedOnClient():
		return fail(fmt.Sprintf("%d of %d requests failed on the client's own limits, not the server's: %s",
			sum.ClientFailures, sum.Sent, strings.Join(sum.Limits, "; ")), loadErr)
	case errors.Is(loadErr, loadgen.ErrAllFailed):
		return fail("every request failed: "+strings.Join(sum.FirstErrors, "; ")+"; hint: "+
			loadgen.FailureHint(sum.FirstErrors, set.targets, e.Load.Model, e.Load.API), loadErr)
	case loadErr != nil:
		return fail("load: "+loadErr.Error(), loadErr)
	}
	rec.Status = results.StatusDone
	r.save(e, rec)
	return rec, &sum
}

// measure runs the load with the GPU sampler and the metrics scraper around it. Every clock
// starts at one agreed instant, so request offsets, GPU samples and scrapes line up.
func (r *Runner) measure(ctx context.Context, set *serverSet, e matrix.Experiment, prompts []workload.Prompt, dir string, rec *results.Experiment) (loadgen.Summary, error) {
	workers := max(e.Load.Settings.Workers, 1)
	delay := r.opts.StartDelay
	if workers > 1 {
		delay = max(delay, WorkerStartDelay)
	}
	start := r.opts.Now().Add(delay)
	l := e.Load.Settings
	windowStart := start.Add(l.Warmup.D())
	rec.StartedAt, rec.MeasureFrom, rec.MeasureTo = start.UTC(), windowStart.UTC(), windowStart.Add(l.RunTime.D()).UTC()

	teleCtx, stopTele := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	var notes []string
	var mu sync.Mutex
	note := func(s string) { mu.Lock(); notes = append(notes, s); mu.Unlock() }
	wg.Go(func() { r.recordGPUs(teleCtx, set, start, dir, note) })
	var skew *results.ReplicaSkew
	wg.Go(func() { skew = r.recordMetrics(ctx, teleCtx, set, e, windowStart, l.RunTime.D(), dir, note) })

	var sum loadgen.Summary
	var err error
	if workers > 1 {
		sum, err = r.runWorkers(ctx, e, set.targets, dir, start, workers, rec.Load.VocabSize)
	} else {
		cfg := loadgen.Config{Load: loadOf(e, set.targets), Prompts: prompts, APIKey: r.opts.APIKey}
		cfg.StartAt = start
		sum, err = r.runLoad(ctx, cfg, dir)
		if sum.ExperimentID != "" { // the client's own CPU, send lag and limits, for the diagnosis
			if werr := results.WriteJSON(filepath.Join(dir, loadgen.SummaryFile(0, 1)), sum.JSON()); werr != nil {
				note("load summary: " + werr.Error())
			}
		}
	}
	stopTele()
	wg.Wait()
	if sum.ExperimentID != "" {
		if werr := writeVLLMResult(dir, e, sum, r.opts.Now()); werr != nil {
			notes = append(notes, "vllm_result.json: "+werr.Error())
		}
	}
	rec.Telemetry, rec.ReplicaSkew = notes, skew
	return sum, err
}

// writeVLLMResult writes the experiment's requests as vllm bench serve --save-result
// --save-detailed would: a closed loop is vLLM's inf rate with its concurrency (or users) as
// max_concurrency, an open loop's in-flight cap is max_concurrency too. The statistics are a
// superset of vLLM's defaults: TTFT, TPOT, ITL and E2EL at p50, p90, p95 and p99.
func writeVLLMResult(dir string, e matrix.Experiment, sum loadgen.Summary, now time.Time) error {
	files, err := results.RequestFiles(dir)
	if err != nil {
		return err
	}
	l, s := e.Load, e.Load.Settings
	o := loadgen.VLLMOptions{Date: now, API: l.API, ModelID: l.Model, RequestRate: math.Inf(1), Burstiness: 1,
		Metrics: []string{"ttft", "tpot", "itl", "e2el"}, Percentiles: []float64{50, 90, 95, 99},
		SLO: sum.SLO, Detailed: true, Metadata: map[string]any{"exp_id": e.ID}}
	switch l.Mode {
	case loadspec.ModeRate:
		o.RequestRate, o.MaxConcurrency, o.Burstiness = l.Rate, s.MaxInflight, s.Burstiness
		if s.Arrival == "constant" {
			o.Burstiness = math.Inf(1)
		}
	case loadspec.ModeConcurrency:
		o.MaxConcurrency = l.Concurrency
	default:
		o.MaxConcurrency = l.Users
	}
	from := s.Warmup.D()
	return loadgen.WriteVLLMResult(filepath.Join(dir, loadgen.VLLMResultFile), files, from, from+sum.Window, o)
}

// runLoad runs one in-process load generator into dir, showing its live progress if asked.
func (r *Runner) runLoad(ctx context.Context, cfg loadgen.Config, dir string) (loadgen.Summary, error) {
	cfg.Host = host.Reader{} // the whole machine, beside the client's own CPU
	sink, err := loadgen.NewParquetSink(dir, 0, 1)
	if err != nil {
		return loadgen.Summary{}, err
	}
	runner, err := loadgen.New(cfg, sink)
	if err != nil {
		sink.Abort()
		return loadgen.Summary{}, err
	}
	if r.opts.Live != nil {
		defer r.opts.Live(cfg.ExperimentID, runner)()
	}
	return runner.Run(ctx)
}

// recordGPUs samples the server's GPUs from start until ctx ends into gpu.parquet.
func (r *Runner) recordGPUs(ctx context.Context, set *serverSet, start time.Time, dir string, note func(string)) {
	s := r.tele.simSampler(set)
	if s == nil {
		s = r.tele.sampler(set.devices())
	}
	if s == nil {
		note("gpu: " + r.tele.absent)
		return
	}
	if _, err := gpu.Record(ctx, s, gpu.Grid{Start: start, Interval: r.tele.interval}, filepath.Join(dir, results.GPUFile)); err != nil {
		note("gpu: " + err.Error())
	}
}

// recordMetrics scrapes every target's /metrics over the measured window (server_metrics.parquet,
// one file per replica when there are several), with snapshots just before and after it. The
// replicas' snapshots are taken concurrently, so every replica's window opens and closes at
// the same instant; the spread that remains is returned (nil with one target). The window
// closes early when the load ends early (teleCtx) or on Ctrl-C (ctx).
func (r *Runner) recordMetrics(ctx, teleCtx context.Context, set *serverSet, e matrix.Experiment, windowStart time.Time, window time.Duration, dir string, note func(string)) *results.ReplicaSkew {
	if !sleepUntil(teleCtx, windowStart) {
		return nil
	}
	recs := make([]*promscrape.Recorder, len(set.targets))
	for i, t := range set.targets {
		sc, err := promscrape.New(promscrape.Options{URL: t + "/metrics", Client: r.opts.Client, Interval: r.tele.interval})
		name := results.ServerMetricsFile
		if len(set.targets) > 1 {
			name = fmt.Sprintf("server_metrics-r%d.parquet", i)
		}
		if err == nil {
			recs[i], err = promscrape.NewRecorder(sc, promscrape.RecorderOptions{Path: filepath.Join(dir, name), Experiment: e.ID})
		}
		if err != nil {
			note("server metrics: " + err.Error())
		}
	}
	before := concurrently(recs, func(rec *promscrape.Recorder) time.Time {
		rec.Begin(teleCtx)
		return rec.Stats().BeforeAt
	})
	endCtx, stop := context.WithCancel(ctx)
	defer stop()
	defer context.AfterFunc(teleCtx, stop)()
	sleepUntil(endCtx, windowStart.Add(window))
	after := concurrently(recs, func(rec *promscrape.Recorder) time.Time {
		st, err := rec.End(context.WithoutCancel(teleCtx))
		if err != nil {
			note("server metrics: " + err.Error())
		}
		return st.AfterAt
	})
	if len(set.targets) < 2 {
		return nil
	}
	return &results.ReplicaSkew{BeforeNs: int64(spread(before)), AfterNs: int64(spread(after))}
}

// concurrently calls f on every recorder at once and returns the times they report.
func concurrently(recs []*promscrape.Recorder, f func(*promscrape.Recorder) time.Time) []time.Time {
	times := make([]time.Time, len(recs))
	var wg sync.WaitGroup
	for i, rec := range recs {
		if rec != nil {
			wg.Go(func() { times[i] = f(rec) })
		}
	}
	wg.Wait()
	return times
}

// spread is the latest minus the earliest of the times that are set.
func spread(times []time.Time) time.Duration {
	var lo, hi time.Time
	for _, t := range times {
		if t.IsZero() {
			continue
		}
		if lo.IsZero() || t.Before(lo) {
			lo = t
		}
		if t.After(hi) {
			hi = t
		}
	}
	return hi.Sub(lo)
}

func sleepUntil(ctx context.Context, t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// devices are the GPUs of every process of the set.
func (s *serverSet) devices() []int {
	var out []int
	for _, in := range s.instances {
		out = append(out, in.Devices...)
	}
	if len(out) == 0 && s.cfg.Engine == spec.EngineExternal {
		for i := range s.cfg.GPUs {
			out = append(out, i)
		}
	}
	return out
}

// freshDir empties an experiment's folder for a new attempt, keeping nothing half written.
func freshDir(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.MkdirAll(dir, 0o755)
}

// copyLogs writes the part of each server log written during the experiment to its server.log.
// A log that cannot be read is named in server.log and in the error; the others are copied.
func copyLogs(set *serverSet, from []int64, to string) error {
	var unread []error
	err := results.WriteAtomic(to, func(w io.Writer) error {
		for i, path := range set.logs {
			if len(set.logs) > 1 {
				if _, err := fmt.Fprintf(w, "==> %s <==\n", filepath.Base(path)); err != nil {
					return err
				}
			}
			if err := copyFrom(w, path, from[i]); err != nil {
				unread = append(unread, err)
				if _, werr := fmt.Fprintf(w, "(%v)\n", err); werr != nil {
					return werr
				}
			}
		}
		if len(set.logs) == 0 {
			_, err := fmt.Fprintln(w, "(no server process: engine external)")
			return err
		}
		return nil
	})
	return errors.Join(err, errors.Join(unread...))
}

// copyFrom copies the file at path from offset on to w.
func copyFrom(w io.Writer, path string, offset int64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if _, err := io.Copy(w, f); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// firstLine is err's first line, for a one-line reason. When that line only announces what
// follows ("…; last lines of server.log:"), the last non-empty line of the rest is kept after
// it: it is usually what the server said as it failed, and a reason ending in a colon says
// nothing on the progress line.
func firstLine(err error) string {
	if err == nil {
		return ""
	}
	line, rest, more := strings.Cut(err.Error(), "\n")
	if !more || !strings.HasSuffix(line, ":") {
		return line
	}
	lines := strings.Split(strings.TrimRight(rest, " \t\r\n"), "\n")
	if last := strings.TrimSpace(lines[len(lines)-1]); last != "" {
		return line + " … " + last
	}
	return strings.TrimSuffix(line, ":")
}

// vocabulary is the vocabulary size random:IN prompts draw token ids below, and where it came
// from (0 and "": not known, ids come from [1000, 100000)).
type vocabulary struct {
	size   int
	source string
}

// promptVocab takes the vocabulary of the matrix's tokenizer (tokVocab; 0: none), else
// load.vocab_size from the matrix, else the server's own; a value larger than the server's
// vocabulary, or a load.vocab_size other than the tokenizer's, is an error naming both.
func promptVocab(e matrix.Experiment, set *serverSet, tokVocab int) (vocabulary, error) {
	server := 0
	if len(set.described) > 0 {
		server = set.described[0].VocabSize
	}
	matrixSize := e.Load.Settings.VocabSize
	switch {
	case tokVocab > 0 && matrixSize != nil && *matrixSize != tokVocab:
		return vocabulary{}, fmt.Errorf("load.vocab_size %d (matrix) disagrees with tokenizer %s, a vocabulary of %d tokens; leave load.vocab_size out",
			*matrixSize, e.Load.Tokenizer, tokVocab)
	case tokVocab > 0 && server > 0 && tokVocab > server:
		return vocabulary{}, fmt.Errorf("tokenizer %s has a vocabulary of %d tokens, larger than the server's, %d tokens "+
			"(/v1/models meta.n_vocab): it is not the served model's tokenizer; name the model's own", e.Load.Tokenizer, tokVocab, server)
	case tokVocab > 0:
		return vocabulary{tokVocab, "tokenizer " + e.Load.Tokenizer}, nil
	case matrixSize != nil && server > 0 && *matrixSize > server:
		return vocabulary{}, fmt.Errorf("load.vocab_size %d (matrix) is larger than the server's vocabulary, %d tokens "+
			"(/v1/models meta.n_vocab): prompts would hold ids the model does not have; lower load.vocab_size or leave it out",
			*matrixSize, server)
	case matrixSize != nil:
		return vocabulary{*matrixSize, "matrix load.vocab_size"}, nil
	case server > 0:
		return vocabulary{server, "server /v1/models meta.n_vocab"}, nil
	}
	return vocabulary{}, nil
}
