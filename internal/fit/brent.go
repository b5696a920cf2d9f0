package fit

import "math"

// brentMin returns a minimiser of f on [a, b] by Brent's method: golden-section steps, replaced
// by parabolic interpolation through the three best points whenever that step is safe (Brent,
// "Algorithms for Minimization without Derivatives", 1973, ch. 5). It stops when the bracket is
// within tol·|x| + 1e-10 of x: absolute near 0, where serial fractions often lie.
func brentMin(f func(float64) float64, a, b, tol float64) float64 {
	const cgold = 0.3819660112501051 // (3 − √5)/2
	x := a + cgold*(b-a)
	w, v := x, x
	fx := f(x)
	fw, fv := fx, fx
	var d, e float64
	for range 200 {
		m := (a + b) / 2
		tol1 := tol*math.Abs(x) + 1e-10
		tol2 := 2 * tol1
		if math.Abs(x-m) <= tol2-(b-a)/2 {
			break
		}
		d, e = brentStep(x, w, v, fx, fw, fv, a, b, m, d, e, tol1)
		u := x + d
		if math.Abs(d) < tol1 {
			u = x + math.Copysign(tol1, d)
		}
		fu := f(u)
		if fu <= fx {
			if u >= x {
				a = x
			} else {
				b = x
			}
			v, w, x, fv, fw, fx = w, x, u, fw, fx, fu
			continue
		}
		if u < x {
			a = u
		} else {
			b = u
		}
		if fu <= fw || w == x {
			v, w, fv, fw = w, u, fw, fu
		} else if fu <= fv || v == x || v == w {
			v, fv = u, fu
		}
	}
	return x
}

// brentStep chooses the next step d (and the step before it, e): parabolic through x, w, v when
// it falls inside [a, b] and is smaller than half the step before last, else golden section into
// the larger part of the bracket.
func brentStep(x, w, v, fx, fw, fv, a, b, m, d, e, tol1 float64) (float64, float64) {
	const cgold = 0.3819660112501051
	golden := func() (float64, float64) {
		if x >= m {
			return cgold * (a - x), a - x
		}
		return cgold * (b - x), b - x
	}
	if math.Abs(e) <= tol1 {
		return golden()
	}
	r := (x - w) * (fx - fv)
	q := (x - v) * (fx - fw)
	p := (x-v)*q - (x-w)*r
	q = 2 * (q - r)
	if q > 0 {
		p = -p
	} else {
		q = -q
	}
	if math.Abs(p) >= math.Abs(q*e/2) || p <= q*(a-x) || p >= q*(b-x) {
		return golden()
	}
	d, e = p/q, d
	if u := x + d; u-a < 2*tol1 || b-u < 2*tol1 {
		d = math.Copysign(tol1, m-x)
	}
	return d, e
}
