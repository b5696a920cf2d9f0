package fit

import "math"

// boxLSQ is a small bounded nonlinear least-squares problem: minimise Σ rᵢ(θ)² subject to
// lower ≤ θ ≤ upper, for a handful of parameters.
type boxLSQ struct {
	m            int // residuals
	lower, upper []float64
	// eval fills r (length m) at θ and, when jac is not nil, the Jacobian ∂rᵢ/∂θⱼ (row-major m×p).
	eval func(theta, r, jac []float64)
}

const (
	lmMaxIter   = 500
	lmRelTol    = 1e-14 // stop when an accepted step lowers the error by less than this fraction
	lmMaxLambda = 1e16
)

// solve runs Levenberg–Marquardt with Marquardt's diagonal scaling from start (clamped into
// the box). Bounds are handled by an active set: a parameter on a bound whose gradient pushes
// it outward is held there for the step; other steps are clamped into the box and kept only if
// they lower the error.
func (q boxLSQ) solve(start []float64) (theta []float64, sse float64) {
	p := len(start)
	theta = q.clamp(start)
	r, jac := make([]float64, q.m), make([]float64, q.m*p)
	rt := make([]float64, q.m)
	q.eval(theta, r, jac)
	sse = sumSq(r)
	lambda := 1e-3
	for range lmMaxIter {
		a, g := normalEquations(jac, r, p)
		free := q.free(theta, g)
		trial, trialSSE, ok := q.dampedStep(theta, sse, a, g, free, &lambda, rt)
		if !ok {
			break
		}
		drop := sse - trialSSE
		theta, sse = trial, trialSSE
		if drop <= lmRelTol*sse {
			break
		}
		lambda = math.Max(lambda/10, 1e-12)
		q.eval(theta, r, jac)
	}
	return theta, sse
}

// dampedStep raises lambda until a step lowers the error; ok is false when none does.
func (q boxLSQ) dampedStep(theta []float64, sse float64, a, g []float64, free []bool, lambda *float64, rt []float64) ([]float64, float64, bool) {
	for ; *lambda < lmMaxLambda; *lambda *= 10 {
		step, ok := solveDamped(a, g, free, *lambda)
		if !ok {
			continue
		}
		trial := make([]float64, len(theta))
		for j := range theta {
			trial[j] = theta[j] + step[j]
		}
		trial = q.clamp(trial)
		q.eval(trial, rt, nil)
		if s := sumSq(rt); s < sse {
			return trial, s, true
		}
	}
	return nil, 0, false
}

func (q boxLSQ) clamp(theta []float64) []float64 {
	out := make([]float64, len(theta))
	for j, v := range theta {
		out[j] = math.Min(math.Max(v, q.lower[j]), q.upper[j])
	}
	return out
}

// free marks the parameters that may move: not on a bound that the gradient g = Jᵀr pushes
// against (the descent direction is −g).
func (q boxLSQ) free(theta, g []float64) []bool {
	f := make([]bool, len(theta))
	for j, v := range theta {
		f[j] = !(v <= q.lower[j] && g[j] > 0) && !(v >= q.upper[j] && g[j] < 0)
	}
	return f
}

// normalEquations returns JᵀJ (p×p, row-major) and Jᵀr.
func normalEquations(jac, r []float64, p int) (a, g []float64) {
	a, g = make([]float64, p*p), make([]float64, p)
	for i, ri := range r {
		row := jac[i*p : (i+1)*p]
		for j := range p {
			g[j] += row[j] * ri
			for k := range p {
				a[j*p+k] += row[j] * row[k]
			}
		}
	}
	return a, g
}

// solveDamped solves (A + λ·diag(A)) δ = −g over the free parameters; fixed ones get δ = 0.
func solveDamped(a, g []float64, free []bool, lambda float64) ([]float64, bool) {
	p := len(g)
	var idx []int
	for j := range p {
		if free[j] {
			idx = append(idx, j)
		}
	}
	k := len(idx)
	if k == 0 {
		return nil, false
	}
	m := make([]float64, k*(k+1)) // augmented k×(k+1)
	for r, j := range idx {
		for c, l := range idx {
			m[r*(k+1)+c] = a[j*p+l]
		}
		d := a[j*p+j]
		if d == 0 {
			d = 1e-12
		}
		m[r*(k+1)+r] += lambda * d
		m[r*(k+1)+k] = -g[j]
	}
	x, ok := gaussSolve(m, k)
	if !ok {
		return nil, false
	}
	step := make([]float64, p)
	for r, j := range idx {
		step[j] = x[r]
	}
	return step, true
}

// gaussSolve solves the k×(k+1) augmented system m by elimination with partial pivoting.
func gaussSolve(m []float64, k int) ([]float64, bool) {
	w := k + 1
	for c := range k {
		piv := c
		for r := c + 1; r < k; r++ {
			if math.Abs(m[r*w+c]) > math.Abs(m[piv*w+c]) {
				piv = r
			}
		}
		if m[piv*w+c] == 0 || math.IsNaN(m[piv*w+c]) {
			return nil, false
		}
		for j := range w {
			m[c*w+j], m[piv*w+j] = m[piv*w+j], m[c*w+j]
		}
		for r := c + 1; r < k; r++ {
			f := m[r*w+c] / m[c*w+c]
			for j := c; j < w; j++ {
				m[r*w+j] -= f * m[c*w+j]
			}
		}
	}
	x := make([]float64, k)
	for r := k - 1; r >= 0; r-- {
		s := m[r*w+k]
		for j := r + 1; j < k; j++ {
			s -= m[r*w+j] * x[j]
		}
		x[r] = s / m[r*w+r]
	}
	return x, true
}

func sumSq(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x * x
	}
	return s
}
