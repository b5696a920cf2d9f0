package fit

import (
	"encoding/binary"
	"math"
	"testing"
)

// FuzzAnalyze feeds arbitrary series to Analyze: no panic, and either an error or fits whose
// parameters respect their bounds. Each 10 bytes are a point: GPU count (uint16 + 1) and
// throughput (float64 bits).
func FuzzAnalyze(f *testing.F) {
	add := func(pts ...Point) {
		var b []byte
		for _, p := range pts {
			b = binary.LittleEndian.AppendUint16(b, uint16(p.GPUs-1))
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(p.Throughput))
		}
		f.Add(b)
	}
	add(Point{GPUs: 1, Throughput: 100}, Point{GPUs: 2, Throughput: 180}, Point{GPUs: 4, Throughput: 300}, Point{GPUs: 8, Throughput: 420})
	add(Point{GPUs: 1, Throughput: 1e-300}, Point{GPUs: 65536, Throughput: 1e300})
	add(Point{GPUs: 1, Throughput: 5}, Point{GPUs: 2, Throughput: 5}, Point{GPUs: 3, Throughput: 5}, Point{GPUs: 4, Throughput: 5},
		Point{GPUs: 5, Throughput: 5}, Point{GPUs: 6, Throughput: 5})
	f.Fuzz(func(t *testing.T, data []byte) {
		var s Series
		for i := 0; i+10 <= len(data) && len(s.Points) < 64; i += 10 {
			s.Points = append(s.Points, Point{
				GPUs:       int(binary.LittleEndian.Uint16(data[i:])) + 1,
				Throughput: math.Float64frombits(binary.LittleEndian.Uint64(data[i+2:])),
				Repeat:     i / 10,
			})
		}
		res, err := Analyze(s, newRNG(1), Options{Resamples: 20})
		if err != nil {
			return
		}
		a := res.Amdahl
		if !(a.S >= 0 && a.S <= 1) || !(a.X1 > 0) {
			t.Errorf("Amdahl s %v X1 %v out of bounds", a.S, a.X1)
		}
		if a.Bootstrap.Method != BootstrapNone && !(a.SInterval.Lo <= a.SInterval.Hi && a.SInterval.Lo >= 0 && a.SInterval.Hi <= 1) {
			t.Errorf("s interval %+v", a.SInterval)
		}
		if u := res.USL; u.Fitted && !(u.Sigma >= 0 && u.Sigma <= 1 && u.Kappa >= 0) {
			t.Errorf("USL σ %v κ %v out of bounds", u.Sigma, u.Kappa)
		}
	})
}
