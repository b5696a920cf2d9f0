package compare

import "strings"

// DirectionOf says which way a summary_metrics column improves: throughputs, goodput and the
// goodput fraction up; latencies, send lag, failures and preemptions down; anything else is
// neutral (a change is shown without a judgement).
func DirectionOf(metric string) Direction {
	switch {
	case strings.Contains(metric, "throughput"), strings.HasPrefix(metric, "goodput"),
		metric == "tokens_per_user_tps", metric == "completed":
		return HigherBetter
	case strings.Contains(metric, "_ms_"), strings.HasPrefix(metric, "failed"),
		strings.HasPrefix(metric, "preemptions"), metric == "not_sent":
		return LowerBetter
	}
	return Neutral
}
