package sweep

import "fmt"

// PlateauGain is the most a closed-loop curve's throughput may still grow above a level, over
// every heavier level, for that level to be the knee: more load bought no more than 5 %.
const PlateauGain = 0.05

// Level is one load level of an ordinary load curve: the levels a matrix listed, not a sweep.
type Level struct {
	Load       float64 // users, requests in flight or requests/s
	Offered    float64 // open loop: requests/s due in the measured window; 0 for a closed loop
	Achieved   float64 // completed requests/s
	Throughput float64 // output tokens/s
}

// CurveKnee finds the knee of a load curve whose levels ascend, with the reason; the index is
// -1 when the curve did not reach one. The knee is never the heaviest level by default: a
// curve that still grows there has not shown where it bends.
//
// Open-loop levels (every Offered above 0) are a sweep's rate points and Knee decides: the
// knee is the highest rate the server kept up with, the lowest level when it fell behind
// every rate, and none when it kept up with the highest rate (saturation lies above it).
// Closed-loop levels have no rate to keep up with: the knee is the lowest level whose output
// throughput no heavier level exceeds by more than PlateauGain.
func CurveKnee(levels []Level) (int, string) {
	if len(levels) == 0 {
		return -1, "no load level was measured"
	}
	open := true
	for _, l := range levels {
		open = open && l.Offered > 0
	}
	if open {
		return rateKnee(levels)
	}
	return plateauKnee(levels)
}

func rateKnee(levels []Level) (int, string) {
	pts := make([]Point, len(levels))
	for i, l := range levels {
		pts[i] = Point{Name: StageRate, Requested: l.Load, Offered: l.Offered, Achieved: l.Achieved}
	}
	last := pts[len(pts)-1]
	if last.Achieved >= KeepUp*last.Offered {
		return -1, fmt.Sprintf("the server kept up with every rate up to %.3g req/s: saturation lies above the curve", last.Offered)
	}
	return Knee(pts)
}

func plateauKnee(levels []Level) (int, string) {
	n := len(levels)
	heavier := make([]float64, n) // the best throughput above each level
	for i := n - 2; i >= 0; i-- {
		heavier[i] = max(heavier[i+1], levels[i+1].Throughput)
	}
	for i := range n - 1 {
		if heavier[i] <= (1+PlateauGain)*levels[i].Throughput {
			return i, fmt.Sprintf("more load than %g bought at most %.0f%% more throughput (%.4g tok/s, at most %.4g above it)",
				levels[i].Load, 100*PlateauGain, levels[i].Throughput, heavier[i])
		}
	}
	return -1, fmt.Sprintf("throughput still grew at the heaviest load (%g): saturation lies above the curve", levels[n-1].Load)
}
