// Package compare sets two campaigns side by side — two results trees, or two selections of
// one (two series, two flag sets) — experiment by experiment: throughput, latency percentiles
// and goodput with the change and whether it exceeds the run-to-run noise, then the scaling
// fits and the verdicts. Noise comes from repeats where both sides have them (Welch's t
// interval of the difference of means), else from a bootstrap over the requests of each
// experiment. Thresholds (--fail-on 'p99_ttft_ms>+10%') turn a comparison into a CI check.
// It reads files only and writes nothing into either tree.
package compare
