package fit

import "math"

// normalQuantile2 is the two-sided standard-normal quantile: z with P(|Z| < z) = conf.
func normalQuantile2(conf float64) float64 { return math.Sqrt2 * math.Erfinv(conf) }

// StudentQuantile2 is the two-sided Student-t quantile for conf and df degrees of freedom
// (the normal one above 10,000): compare uses it for the noise of repeats.
func StudentQuantile2(conf float64, df int) float64 { return studentQuantile2(conf, max(df, 1)) }

// studentQuantile2 is the two-sided Student-t quantile: t with P(|T| < t) = conf for df
// degrees of freedom, by bisection on the closed-form distribution for integer df.
func studentQuantile2(conf float64, df int) float64 {
	if df > 10000 {
		return normalQuantile2(conf)
	}
	lo, hi := 0.0, 1.0
	for studentAbsCDF(hi, df) < conf {
		hi *= 2
	}
	for range 100 {
		mid := (lo + hi) / 2
		if studentAbsCDF(mid, df) < conf {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// studentAbsCDF is A(t|ν) = P(|T| < t) for integer ν ≥ 1 (Abramowitz & Stegun 26.7.3–4), with
// θ = atan(t/√ν):
//
//	ν odd:  A = (2/π)·(θ + sinθ·(cosθ + (2/3)cos³θ + … + (2·4…(ν−3))/(1·3…(ν−2))·cos^(ν−2)θ))
//	ν even: A = sinθ·(1 + (1/2)cos²θ + … + (1·3…(ν−3))/(2·4…(ν−2))·cos^(ν−2)θ)
func studentAbsCDF(t float64, df int) float64 {
	th := math.Atan(t / math.Sqrt(float64(df)))
	s, c := math.Sin(th), math.Cos(th)
	if df%2 == 0 {
		term, sum := 1.0, 1.0
		for k := 2; k <= df-2; k += 2 {
			term *= float64(k-1) / float64(k) * c * c
			sum += term
		}
		return s * sum
	}
	if df == 1 {
		return 2 * th / math.Pi
	}
	term, sum := c, c
	for k := 3; k <= df-2; k += 2 {
		term *= float64(k-1) / float64(k) * c * c
		sum += term
	}
	return 2 / math.Pi * (th + s*sum)
}
