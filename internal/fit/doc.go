// Package fit turns a scaling series — throughput measured at several GPU counts, possibly with
// repeats — into the numbers that say how, and how badly, it scales:
//
//   - speedup S(N) and efficiency S(N)/(N/N0) per GPU count (Speedups);
//   - Amdahl's law X(N) = X1·N / (1 + s(N−1)) fitted by nonlinear least squares, with a
//     bootstrap percentile interval for the serial fraction s and for X1 (Amdahl);
//   - Gustafson's scaled speedup N − s(N−1) from the fitted s (Gustafson);
//   - Gunther's Universal Scalability Law X(N) = λN / (1 + σ(N−1) + κN(N−1)) when the series has
//     MinUSLGPUCounts or more GPU counts, with the peak N* = sqrt((1−σ)/κ) (USL);
//   - the Karp–Flatt metric e(N) = (1/S − 1/N)/(1 − 1/N) and whether it rises, stays flat or
//     falls with N (KarpFlatt);
//   - R², RMSE and residuals of every fit (Goodness).
//
// Analyze runs all of them on one series. ParseTable reads a plain CSV table that a user brings.
//
// The package is pure: no files, no clocks, no global state. Randomness (the bootstrap) comes
// from a *rand.Rand the caller seeds. docs/analysis.md ("Scaling fits") explains every formula,
// the fitting and bootstrap methods, and the thresholds, with their reasons.
package fit
