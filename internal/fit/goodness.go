package fit

import "math"

// Goodness says how well a fitted curve X̂(N) follows the points Xᵢ of a series.
//
//	Residualᵢ = Xᵢ − X̂(Nᵢ)
//	R²        = 1 − Σ Residualᵢ² / Σ (Xᵢ − X̄)²   (X̄ the mean of all points; NaN when all Xᵢ are equal)
//	RMSE      = sqrt(Σ Residualᵢ² / n)            (throughput units)
//	RelRMSE   = sqrt(Σ (ln Xᵢ − ln X̂(Nᵢ))² / n)  (≈ typical relative error; what the fits minimise)
//
// R² and RMSE are in throughput units although the fits minimise relative errors, so they are
// the figures a reader can check against the plot; with noise that grows with throughput the
// fitted curve is therefore close to, not exactly, the one that maximises R².
type Goodness struct {
	R2, RMSE, RelRMSE float64
	Residuals         []Residual // one per point, in the series' order
}

// Residual is one point against the fitted curve.
type Residual struct {
	GPUs     int
	Repeat   int
	Observed float64
	Fitted   float64
	Residual float64 // Observed − Fitted
}

func goodness(pts []Point, model func(n float64) float64) Goodness {
	g := Goodness{Residuals: make([]Residual, len(pts))}
	mean := 0.0
	for _, p := range pts {
		mean += p.Throughput
	}
	mean /= float64(len(pts))
	var ssRes, ssTot, ssLog float64
	for i, p := range pts {
		f := model(float64(p.GPUs))
		r := p.Throughput - f
		g.Residuals[i] = Residual{GPUs: p.GPUs, Repeat: p.Repeat, Observed: p.Throughput, Fitted: f, Residual: r}
		ssRes += r * r
		ssTot += (p.Throughput - mean) * (p.Throughput - mean)
		l := math.Log(p.Throughput / f)
		ssLog += l * l
	}
	n := float64(len(pts))
	g.RMSE, g.RelRMSE = math.Sqrt(ssRes/n), math.Sqrt(ssLog/n)
	g.R2 = math.NaN()
	if ssTot > 0 {
		g.R2 = 1 - ssRes/ssTot
	}
	return g
}
