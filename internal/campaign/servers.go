package campaign

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/llmscale/llmscale/internal/matrix"
	"github.com/llmscale/llmscale/internal/otlp"
	"github.com/llmscale/llmscale/internal/promscrape"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/server"
	"github.com/llmscale/llmscale/internal/spec"
)

// serverSet is one server configuration up: one process, DP replicas, or an external endpoint.
type serverSet struct {
	cfg       matrix.ServerConfig
	instances []server.Instance
	commands  []server.Command
	procs     []*server.Process
	logs      []string // full log of each process, under results/servers/
	targets   []string // base URLs the load goes to
	version   string
	effective map[string]string
	described []server.Description // what each target says about itself (/props, /v1/models)

	traces     *otlp.Receiver // telemetry.traces: the spans the processes export
	tracesNote string         // why there is no receiver although traces were asked for
}

// startServer starts a server configuration and waits until every process is ready.
func (r *Runner) startServer(ctx context.Context, sc matrix.ServerConfig) (*serverSet, error) {
	set := &serverSet{cfg: sc}
	if sc.Engine == spec.EngineExternal {
		set.targets = []string{strings.TrimRight(sc.Host, "/")}
		if err := server.WaitReady(ctx, r.readiness(sc, set.targets[0])); err != nil {
			return set, err
		}
		set.describe(ctx, r.opts.Client)
		return set, nil
	}
	instances, err := r.instances(sc)
	if err != nil {
		return set, err
	}
	if err := set.startTraces(r.tele.traces); err != nil {
		return set, err
	}
	set.instances = instances
	for i, in := range instances {
		if err := set.launch(r, in, i); err != nil {
			set.stop()
			return set, err
		}
	}
	for i, p := range set.procs {
		if err := p.WaitReady(ctx, r.readiness(sc, set.targets[i])); err != nil {
			set.stop()
			return set, err
		}
	}
	set.describe(ctx, r.opts.Client)
	return set, nil
}

// instances picks the ports: the configured one and those after it, or free ones.
func (r *Runner) instances(sc matrix.ServerConfig) ([]server.Instance, error) {
	base := sc.Settings.Port
	instances := server.Plan(sc, max(base, 1))
	for i := range instances {
		if base == 0 {
			port, err := server.FreePort()
			if err != nil {
				return nil, fmt.Errorf("find a free port: %w", err)
			}
			instances[i].Port = port
			continue
		}
		if !server.PortFree(instances[i].Port) {
			return nil, fmt.Errorf("port %d is in use (another server still running?): stop it or set server.port", instances[i].Port)
		}
	}
	return instances, nil
}

func (s *serverSet) launch(r *Runner, in server.Instance, i int) error {
	cmd, err := server.BuildCommand(s.cfg, in, r.opts.Exe)
	if err != nil {
		return err
	}
	cmd = s.withTraces(cmd)
	name := s.cfg.ID
	if len(s.instances) > 1 {
		name += fmt.Sprintf("-r%d", i)
	}
	logPath := filepath.Join(r.opts.Results, results.ServersDir, name+".log")
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return err
	}
	p, err := server.Start(cmd, server.Options{LogPath: logPath, Environ: r.opts.Environ, StopGrace: s.cfg.Settings.StopGrace.D()})
	if err != nil {
		return err
	}
	s.commands = append(s.commands, cmd)
	s.procs = append(s.procs, p)
	s.logs = append(s.logs, logPath)
	s.targets = append(s.targets, fmt.Sprintf("http://127.0.0.1:%d", in.Port))
	return nil
}

func (r *Runner) readiness(sc matrix.ServerConfig, target string) server.Readiness {
	return server.Readiness{BaseURL: target, Model: sc.Model, API: r.plan.Experiments[0].Load.API,
		Timeout: sc.Settings.StartupTimeout.D(), Client: r.opts.Client}
}

// describe records the server's version and the settings it reports: in its metrics (vLLM),
// /props (llama.cpp) and /v1/models.
func (s *serverSet) describe(ctx context.Context, client *http.Client) {
	s.described = make([]server.Description, len(s.targets))
	for i, t := range s.targets {
		s.described[i] = server.Describe(ctx, client, t)
	}
	s.version, _ = promscrape.Version(ctx, client, s.targets[0])
	if s.version == "" && s.described[0].Version != "" {
		s.version = "llama.cpp " + s.described[0].Version
	}
	s.effective = map[string]string{}
	for k, v := range s.described[0].Effective {
		s.effective[k] = v
	}
	sc, err := promscrape.New(promscrape.Options{URL: s.targets[0] + "/metrics", Client: client})
	if err != nil {
		return
	}
	snap, err := sc.Snapshot(ctx)
	if err != nil {
		return
	}
	cfg := promscrape.NewWindow(promscrape.Rows("", results.PhaseBefore, -1, snap.Time, snap.Time, snap, nil)).Config()
	put := func(k string, v int) {
		if v > 0 {
			s.effective[k] = fmt.Sprint(v)
		}
	}
	put("max_num_seqs", cfg.MaxNumSeqs)
	put("max_num_batched_tokens", cfg.MaxNumBatchedTokens)
	put("num_gpu_blocks", cfg.NumGPUBlocks)
	put("block_size", cfg.BlockSize)
	put("engines", cfg.Engines)
	if cfg.GPUMemoryUtilization > 0 {
		s.effective["gpu_memory_utilization"] = fmt.Sprint(cfg.GPUMemoryUtilization)
	}
}

// exitNoticeWait is how long a campaign waits, after a replica refused connections, for one
// of its processes to be seen exiting, so the experiment says "crashed" with the log's tail.
// A busy host can take seconds to reap a process that died; a replica that refuses while still
// running costs the whole wait, which only happens once per failed experiment.
const exitNoticeWait = 10 * time.Second

// awaitExit waits until a process of the set has exited, or d has passed.
func (s *serverSet) awaitExit(d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	done := make(chan struct{})
	defer close(done)
	exited := make(chan struct{}, len(s.procs))
	for _, p := range s.procs {
		go func() {
			select {
			case <-p.Exited():
				exited <- struct{}{}
			case <-done:
			}
		}()
	}
	select {
	case <-exited:
	case <-timer.C:
	}
}

// alive returns an error naming the first process that has exited, with its log's tail.
func (s *serverSet) alive() error {
	for i, p := range s.procs {
		if err := p.ExitError(); err != nil {
			return fmt.Errorf("server crashed: %w; last lines of its log:\n%s", err, server.LogTail(s.logs[i], 15))
		}
	}
	return nil
}

// stop stops every process; it is safe to call more than once.
func (s *serverSet) stop() {
	for _, p := range s.procs {
		p.Stop()
	}
	s.stopTraces()
}

// commandLines are the commands as text, for experiment.json.
func (s *serverSet) commandLines() []string {
	out := make([]string, len(s.commands))
	for i, c := range s.commands {
		out[i] = c.String()
	}
	return out
}

// logSizes are the current lengths of the logs, to cut each experiment's part out later.
func (s *serverSet) logSizes() []int64 {
	sizes := make([]int64, len(s.logs))
	for i, l := range s.logs {
		if st, err := os.Stat(l); err == nil {
			sizes[i] = st.Size()
		}
	}
	return sizes
}

// resetPromptCache empties every target's prompt cache, so one experiment's cached prompts do
// not speed up the next, and says what was done for experiment.json: llama.cpp's slots are
// erased; vLLM's /reset_prefix_cache is called (llmscale sets VLLM_SERVER_DEV_MODE=1 for it).
func (s *serverSet) resetPromptCache(ctx context.Context, client *http.Client) string {
	var done []string
	var errs []error
	for i, t := range s.targets {
		slots := 0
		if i < len(s.described) {
			slots = s.described[i].Slots
		}
		what, err := server.ResetPromptCache(ctx, client, t, slots)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", t, err))
			continue
		}
		done = append(done, what)
	}
	if len(errs) > 0 {
		return "not reset: " + errors.Join(errs...).Error()
	}
	if len(done) == 0 {
		return ""
	}
	return done[0]
}

// startWithRetries starts a server configuration, trying again as server.retries allows.
func (r *Runner) startWithRetries(ctx context.Context, sc matrix.ServerConfig) (*serverSet, error) {
	var err error
	for attempt := 0; attempt <= sc.Settings.Retries; attempt++ {
		if attempt > 0 {
			r.prog.server("%s: start failed, trying again (%d of %d)", sc.ID, attempt, sc.Settings.Retries)
		}
		start := time.Now()
		var set *serverSet
		if set, err = r.startSet(ctx, sc); err == nil {
			took := time.Since(start)
			r.prog.serverReady(sc.ID, took)
			r.prog.server("%s ready in %s at %s", sc.ID, took.Round(100*time.Millisecond), strings.Join(set.targets, ", "))
			return set, nil
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, err
}
