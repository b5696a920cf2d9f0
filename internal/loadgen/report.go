package loadgen

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/results"
)

// WriteText writes the summary as a table for people, with vLLM's metric names.
func (s Summary) WriteText(w io.Writer) error {
	var b strings.Builder
	s.writeHeader(&b)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	s.writeCounts(tw)
	fmt.Fprintln(tw)
	s.writeLatencies(tw)
	if err := tw.Flush(); err != nil {
		return err
	}
	if s.VLLMDiffers {
		fmt.Fprintf(&b, "vLLM     vllm bench serve would print TTFT mean %.2f ms, ITL mean %.2f ms (p99 %.2f ms): "+
			"it times every chunk with choices, so chat's role-only first delta is its first token\n",
			s.TTFTvLLM.Mean, s.ITLvLLM.Mean, s.ITLvLLM.P99)
	}
	s.writeClient(&b)
	_, err := io.WriteString(w, b.String())
	return err
}

func (s Summary) writeHeader(b *strings.Builder) {
	fmt.Fprintf(b, "llmscale load")
	if s.ExperimentID != "" {
		fmt.Fprintf(b, ": %s", s.ExperimentID)
	}
	switch {
	case s.WorkerCount > 1 && s.WorkerID < 0:
		fmt.Fprintf(b, " (%d workers together)", s.WorkerCount)
	case s.WorkerCount > 1:
		fmt.Fprintf(b, " (worker %d of %d)", s.WorkerID+1, s.WorkerCount)
	}
	fmt.Fprintf(b, "\ntarget   %s (%s, model %s)\n", strings.Join(s.Targets, ", "), s.API, s.Model)
	fmt.Fprintf(b, "load     %s\n", s.loadText())
	fmt.Fprintf(b, "window   %.1f s measured of a %.1f s run", s.Window.Seconds(), s.Wall.Seconds())
	if s.Interrupted {
		b.WriteString(" (interrupted: the window ends at Ctrl-C)")
	}
	fmt.Fprintf(b, "; requests by phase: %s\n\n", countsText(s.Phases))
}

func (s Summary) loadText() string {
	switch s.Mode {
	case loadspec.ModeUsers:
		return fmt.Sprintf("%d users", s.Users)
	case loadspec.ModeConcurrency:
		return fmt.Sprintf("%d requests in flight", s.Concurrency)
	}
	t := fmt.Sprintf("%g requests/s, %s arrivals", s.Rate, s.Arrival)
	if s.Arrival == "gamma" {
		t += fmt.Sprintf(" (burstiness %g)", s.Burstiness)
	}
	if s.MaxInflight > 0 {
		t += fmt.Sprintf(", at most %d in flight", s.MaxInflight)
	}
	return t
}

func (s Summary) writeCounts(w io.Writer) {
	fmt.Fprintf(w, "Successful requests:\t%d\n", s.Succeeded)
	byKind := ""
	if len(s.Failures) > 0 { // counted over the whole run, warm-up and cool-down included
		byKind = "whole run by kind: " + countsText(s.Failures)
	}
	fmt.Fprintf(w, "Failed requests:\t%d\t%s\n", s.Failed, byKind)
	if s.NotSent > 0 {
		fmt.Fprintf(w, "Not sent (in-flight cap):\t%d\n", s.NotSent)
	}
	fmt.Fprintf(w, "Request throughput (req/s):\t%.2f\n", s.RequestThroughput)
	if s.SLO.Any() {
		fmt.Fprintf(w, "Request goodput (req/s):\t%.2f\t%d of %d requests met %s\n", s.RequestGoodput, s.GoodRequests,
			s.Succeeded+s.Failed, s.SLO)
	}
	fmt.Fprintf(w, "Output token throughput (tok/s):\t%.2f\n", s.OutputThroughput)
	fmt.Fprintf(w, "Total token throughput (tok/s):\t%.2f\n", s.TotalThroughput)
	fmt.Fprintf(w, "Total input / generated tokens:\t%d / %d\n", s.PromptTokens, s.OutputTokens)
	if s.Mode == loadspec.ModeRate {
		fmt.Fprintf(w, "Requested / scheduled / achieved rate (req/s):\t%.2f / %.2f / %.2f\n",
			s.RequestedRate, s.ScheduledRate, s.AchievedRate)
	} else {
		fmt.Fprintf(w, "Achieved request rate (req/s):\t%.2f\n", s.AchievedRate)
	}
}

func (s Summary) writeLatencies(w io.Writer) {
	fmt.Fprintln(w, "Latency (ms)\tmean\tmedian\tp90\tp95\tp99\tmax\tn")
	rows := []struct {
		name string
		st   Stat
	}{{"TTFT", s.TTFT}, {"TPOT", s.TPOT}, {"ITL", s.ITL}, {"ITL per token", s.TokenITL}, {"E2EL", s.E2E},
		{"E2EL from due", s.E2EFromDue}, {"Send lag", s.SendLag}, {"Connect", s.Connect}}
	for _, r := range rows {
		if r.st.N == 0 {
			fmt.Fprintf(w, "%s\t-\t-\t-\t-\t-\t-\t0\n", r.name)
			continue
		}
		fmt.Fprintf(w, "%s\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%d\n", r.name, r.st.Mean, r.st.Median,
			r.st.P90, r.st.P95, r.st.P99, r.st.Max, r.st.N)
	}
}

func (s Summary) writeClient(b *strings.Builder) {
	fmt.Fprintf(b, "\nclient   %s; CPU %.2f s (%.2f of %d cores), peak %d connections (%d dialled), peak %d in flight, "+
		"timer wake-up lag p99 %.2f ms\n", s.Client, s.ClientCPU.Seconds(), s.ClientCores, s.Cores, s.PeakConnections,
		s.Connections, s.PeakInFlight, s.WakeLag.P99)
	if s.Preconnected > 0 || s.PreconnectError != "" {
		fmt.Fprintf(b, "         %d connections opened before the start, in %.2f s", s.Preconnected, s.PreconnectTime.Seconds())
		if s.PreconnectError != "" {
			fmt.Fprintf(b, " (stopped: %s)", s.PreconnectError)
		}
		b.WriteString("\n")
	}
	s.writeHost(b)
	if len(s.Limits) == 0 && !s.HostContended {
		b.WriteString("         the client did not limit the run (no CPU saturation, send lag or connection cap seen)\n")
	}
	for _, l := range s.Limits {
		fmt.Fprintf(b, "LIMIT    %s\n", l)
	}
	if len(s.FirstErrors) > 0 {
		b.WriteString("first errors:\n")
		for _, e := range s.FirstErrors {
			fmt.Fprintf(b, "  - %s\n", e)
		}
	}
}

// writeHost says how busy the whole machine was, when it was sampled.
func (s Summary) writeHost(b *strings.Builder) {
	if s.HostCPUUtil == nil || s.HostSteal == nil {
		return
	}
	fmt.Fprintf(b, "host     CPU %.0f%% busy, steal %.1f%% over the run", 100**s.HostCPUUtil, 100**s.HostSteal)
	if len(s.HostSharers) > 0 {
		fmt.Fprintf(b, "; on the client's cores also: %s", strings.Join(s.HostSharers, ", "))
	}
	b.WriteString("\n")
	if s.HostContended {
		b.WriteString("HOST     the machine was contended: the client's timings include waiting for a CPU, " +
			"whatever the client's own CPU use (run the client on cores of its own, or on another machine)\n")
	}
}

func countsText(m map[string]int) string {
	if len(m) == 0 {
		return ""
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// JSON returns the summary as summary.json holds it: vLLM's benchmark keys (mean_ttft_ms,
// p99_itl_ms, request_throughput, …) plus llmscale's own (send_lag_*, achieved_rate, client_*).
func (s Summary) JSON() results.LoadSummary {
	cores, clientFailures := s.Cores, s.ClientFailures
	doc := results.LoadSummary{
		ExperimentID: s.ExperimentID, WorkerID: s.WorkerID, Workers: s.WorkerCount, Mode: s.Mode, API: s.API,
		Model: s.Model, Targets: s.Targets, TargetsDown: s.TargetsDown, Seed: s.Seed, Users: s.Users,
		Concurrency: s.Concurrency, RequestRate: s.Rate, Arrival: s.Arrival, Burstiness: s.Burstiness,
		MaxInflight: s.MaxInflight, Duration: s.Window.Seconds(), WallS: s.Wall.Seconds(), Interrupted: s.Interrupted,
		Sent: s.Sent, Completed: s.Succeeded, Failed: s.Failed, NotSent: s.NotSent, Phases: s.Phases,
		Failures: s.Failures, FirstErrors: s.FirstErrors, TotalInputTokens: s.PromptTokens,
		TotalOutputTokens: s.OutputTokens, RequestThroughput: s.RequestThroughput, OutputThroughput: s.OutputThroughput,
		TotalTokenThroughput: s.TotalThroughput, RequestedRate: s.RequestedRate, ScheduledRate: s.ScheduledRate,
		AchievedRate: s.AchievedRate, Client: s.Client, ClientCPUS: s.ClientCPU.Seconds(),
		ClientCoresBusy: &s.ClientCores, ClientCores: &cores, PeakConnections: s.PeakConnections,
		ConnectionsDialled: s.Connections, PeakInflight: s.PeakInFlight, CapWaits: s.CapWaits, ClientLimits: s.Limits,
		ClientFailures: &clientFailures, HostCPUUtil: s.HostCPUUtil, HostSteal: s.HostSteal,
		HostContended: s.HostContended, HostSharers: s.HostSharers, PID: s.PID, OpenFilesLimit: s.OpenFilesLimit,
		Preconnected: s.Preconnected, PreconnectS: s.PreconnectTime.Seconds(), PreconnectError: s.PreconnectError,
	}
	if s.SLO.Any() {
		goodput, good := s.RequestGoodput, s.GoodRequests
		ttft, tpot, e2e := ms(int64(s.SLO.TTFT)), ms(int64(s.SLO.TPOT)), ms(int64(s.SLO.E2E))
		doc.RequestGoodput, doc.GoodRequests = &goodput, &good
		doc.SLOTTFTMs, doc.SLOTPOTMs, doc.SLOE2ELMs = &ttft, &tpot, &e2e
	}
	if s.MaxRequests > 0 {
		n := s.MaxRequests
		doc.NumPrompts = &n
	}
	s.fillStats(&doc)
	return doc
}

// fillStats writes the latency statistics (milliseconds) into d.
func (s Summary) fillStats(d *results.LoadSummary) {
	d.MeanTTFTMs, d.StdTTFTMs, d.MedianTTFTMs, d.P90TTFTMs, d.P95TTFTMs, d.P99TTFTMs, d.MaxTTFTMs = statFields(s.TTFT)
	d.MeanTPOTMs, d.StdTPOTMs, d.MedianTPOTMs, d.P90TPOTMs, d.P95TPOTMs, d.P99TPOTMs, d.MaxTPOTMs = statFields(s.TPOT)
	d.MeanITLMs, d.StdITLMs, d.MedianITLMs, d.P90ITLMs, d.P95ITLMs, d.P99ITLMs, d.MaxITLMs = statFields(s.ITL)
	d.MeanTokenITLMs, d.StdTokenITLMs, d.MedianTokenITLMs, d.P90TokenITLMs, d.P95TokenITLMs, d.P99TokenITLMs,
		d.MaxTokenITLMs = statFields(s.TokenITL)
	d.MeanE2ELMs, d.StdE2ELMs, d.MedianE2ELMs, d.P90E2ELMs, d.P95E2ELMs, d.P99E2ELMs, d.MaxE2ELMs = statFields(s.E2E)
	d.MeanE2ELFromDueMs, d.StdE2ELFromDueMs, d.MedianE2ELFromDueMs, d.P90E2ELFromDueMs, d.P95E2ELFromDueMs,
		d.P99E2ELFromDueMs, d.MaxE2ELFromDueMs = statFields(s.E2EFromDue)
	d.MeanSendLagMs, d.StdSendLagMs, d.MedianSendLagMs, d.P90SendLagMs, d.P95SendLagMs, d.P99SendLagMs,
		d.MaxSendLagMs = statFields(s.SendLag)
	d.MeanWakeLagMs, d.StdWakeLagMs, d.MedianWakeLagMs, d.P90WakeLagMs, d.P95WakeLagMs, d.P99WakeLagMs,
		d.MaxWakeLagMs = statFields(s.WakeLag)
	d.MeanConnectMs, d.StdConnectMs, d.MedianConnectMs, d.P90ConnectMs, d.P95ConnectMs, d.P99ConnectMs,
		d.MaxConnectMs = statFields(s.Connect)
	if !s.VLLMDiffers { // vllm bench serve's own figures, only where they differ from ours
		return
	}
	d.MeanTTFTvLLMMs, d.StdTTFTvLLMMs, d.MedianTTFTvLLMMs, d.P90TTFTvLLMMs, d.P95TTFTvLLMMs, d.P99TTFTvLLMMs,
		d.MaxTTFTvLLMMs = statPointers(s.TTFTvLLM)
	d.MeanITLvLLMMs, d.StdITLvLLMMs, d.MedianITLvLLMMs, d.P90ITLvLLMMs, d.P95ITLvLLMMs, d.P99ITLvLLMMs,
		d.MaxITLvLLMMs = statPointers(s.ITLvLLM)
}

// statFields are the statistics summary.json writes, in the order mean, std, median, p90, p95,
// p99, max.
func statFields(st Stat) (mean, std, median, p90, p95, p99, maximum float64) {
	return st.Mean, st.Std, st.Median, st.P90, st.P95, st.P99, st.Max
}

// statPointers are statFields, for the statistics a summary holds only sometimes.
func statPointers(st Stat) (mean, std, median, p90, p95, p99, maximum *float64) {
	return &st.Mean, &st.Std, &st.Median, &st.P90, &st.P95, &st.P99, &st.Max
}
