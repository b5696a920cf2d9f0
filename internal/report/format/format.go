// Package format writes numbers, times and durations for people to read, the same way in the
// report's page, its charts and its static figures.
package format

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Num formats a measurement for reading: thousands separators and a precision that
// suits its size (12,345 · 123 · 12.3 · 1.23 · 0.123). NaN and ±Inf are "–".
func Num(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	a := math.Abs(v)
	var s string
	switch {
	case a >= 100 || a == 0:
		s = strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		s = strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		s = strconv.FormatFloat(v, 'f', 2, 64)
	default:
		s = strconv.FormatFloat(v, 'g', 3, 64)
	}
	return GroupThousands(s)
}

// GroupThousands puts commas into the integer part of a formatted number.
func GroupThousands(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	if len(intPart) <= 3 || strings.ContainsAny(intPart, "e") {
		return sign + s
	}
	var b strings.Builder
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if frac != "" {
		return sign + b.String() + "." + frac
	}
	return sign + b.String()
}

// Opt formats an optional number.
func Opt(v *float64) string {
	if v == nil {
		return "–"
	}
	return Num(*v)
}

// Param formats a fitted parameter (s, σ, κ, e): three decimals, or two significant digits
// below 0.01.
func Param(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "–"
	case v != 0 && math.Abs(v) < 0.01:
		return strconv.FormatFloat(v, 'g', 2, 64)
	}
	return strconv.FormatFloat(v, 'f', 3, 64)
}

// Pct formats a ratio as a percentage: 0.643 → "64 %".
func Pct(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return fmt.Sprintf("%.0f %%", v*100)
}

// Speedup formats a speedup: 5.12 → "5.1×".
func Speedup(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	if v >= 10 {
		return fmt.Sprintf("%.0f×", v)
	}
	return fmt.Sprintf("%.1f×", v)
}

// Time formats a time in UTC; the zero time is "–".
func Time(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// Duration formats a campaign's length: "2 h 13 min", "4 min 05 s".
func Duration(d time.Duration) string {
	switch {
	case d <= 0:
		return "–"
	case d >= time.Hour:
		return fmt.Sprintf("%d h %02d min", int(d.Hours()), int(d.Minutes())%60)
	case d >= time.Minute:
		return fmt.Sprintf("%d min %02d s", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%.0f s", d.Seconds())
}

// Sig rounds v to n significant digits.
func Sig(v float64, n int) float64 {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return v
	}
	f, err := strconv.ParseFloat(strconv.FormatFloat(v, 'g', n, 64), 64)
	if err != nil {
		return v
	}
	return f
}
