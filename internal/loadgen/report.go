package loadgen

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/llmscale/llmscale/internal/loadspec"
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
		{"E2EL from due", s.E2EFromDue}, {"Send lag", s.SendLag}}
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

// JSON returns the summary as a flat document with vLLM's benchmark keys (mean_ttft_ms,
// p99_itl_ms, request_throughput, …) plus llmscale's own (send_lag_*, achieved_rate, client_*).
func (s Summary) JSON() map[string]any {
	doc := map[string]any{
		"exp_id":                 s.ExperimentID,
		"worker_id":              s.WorkerID,
		"workers":                s.WorkerCount,
		"mode":                   s.Mode,
		"api":                    s.API,
		"model":                  s.Model,
		"targets":                s.Targets,
		"targets_down":           s.TargetsDown,
		"seed":                   s.Seed,
		"users":                  s.Users,
		"concurrency":            s.Concurrency,
		"request_rate":           s.Rate,
		"arrival":                s.Arrival,
		"burstiness":             s.Burstiness,
		"max_inflight":           s.MaxInflight,
		"duration":               s.Window.Seconds(),
		"wall_s":                 s.Wall.Seconds(),
		"interrupted":            s.Interrupted,
		"sent":                   s.Sent,
		"completed":              s.Succeeded,
		"failed":                 s.Failed,
		"not_sent":               s.NotSent,
		"phases":                 s.Phases,
		"failures":               s.Failures,
		"first_errors":           s.FirstErrors,
		"total_input_tokens":     s.PromptTokens,
		"total_output_tokens":    s.OutputTokens,
		"request_throughput":     s.RequestThroughput,
		"output_throughput":      s.OutputThroughput,
		"total_token_throughput": s.TotalThroughput,
		"requested_rate":         s.RequestedRate,
		"scheduled_rate":         s.ScheduledRate,
		"achieved_rate":          s.AchievedRate,
		"client":                 s.Client,
		"client_cpu_s":           s.ClientCPU.Seconds(),
		"client_cores_busy":      s.ClientCores,
		"client_cores":           s.Cores,
		"peak_connections":       s.PeakConnections,
		"connections_dialled":    s.Connections,
		"peak_inflight":          s.PeakInFlight,
		"cap_waits":              s.CapWaits,
		"client_limits":          s.Limits,
		"request_goodput":        nil, // vLLM's: null without objectives
		"num_prompts":            nil,
		"client_failures":        s.ClientFailures,
		"host_cpu_util":          s.HostCPUUtil,
		"host_steal":             s.HostSteal,
		"host_contended":         s.HostContended,
		"host_sharers":           s.HostSharers,
		"open_files_limit":       s.OpenFilesLimit,
	}
	if s.SLO.Any() {
		doc["request_goodput"], doc["good_requests"] = s.RequestGoodput, s.GoodRequests
		doc["slo_ttft_ms"], doc["slo_tpot_ms"], doc["slo_e2el_ms"] = ms(int64(s.SLO.TTFT)), ms(int64(s.SLO.TPOT)), ms(int64(s.SLO.E2E))
	}
	if s.MaxRequests > 0 {
		doc["num_prompts"] = s.MaxRequests
	}
	stats := map[string]Stat{"ttft": s.TTFT, "tpot": s.TPOT, "itl": s.ITL, "token_itl": s.TokenITL,
		"e2el": s.E2E, "e2el_from_due": s.E2EFromDue, "send_lag": s.SendLag, "wake_lag": s.WakeLag}
	if s.VLLMDiffers { // vllm bench serve's own figures, where they differ from ours
		stats["ttft_vllm"], stats["itl_vllm"] = s.TTFTvLLM, s.ITLvLLM
	}
	for name, st := range stats {
		doc["mean_"+name+"_ms"] = st.Mean
		doc["std_"+name+"_ms"] = st.Std
		doc["median_"+name+"_ms"] = st.Median
		doc["p90_"+name+"_ms"] = st.P90
		doc["p95_"+name+"_ms"] = st.P95
		doc["p99_"+name+"_ms"] = st.P99
		doc["max_"+name+"_ms"] = st.Max
	}
	return doc
}
