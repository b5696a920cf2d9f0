package treegen

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/llmscale/llmscale/internal/results"
)

// requests are one experiment's request rows, spread evenly over warm-up, window and
// cool-down: TTFT log-normal around 100 ms (longer with more users), a chunk (one token) every
// 8–16 ms with an occasional stall, and one request in a hundred failing (HTTP 503 or a
// timeout).
func requests(rng *rand.Rand, o Options, sh shape, expID string) []results.Request {
	span := int64(warmup + runTime + cooldown)
	rows := make([]results.Request, o.Requests)
	for j := range rows {
		sent := int64(j)*span/int64(o.Requests) + rng.Int64N(int64(time.Millisecond))
		q := &rows[j]
		*q = results.Request{ExperimentID: expID, Seq: int64(j), User: int32(j % sh.users), PromptIndex: int32(rng.IntN(1000)),
			MaxTokens: int32(o.MaxTokens), DueNs: sent - rng.Int64N(int64(200*time.Microsecond)), SentNs: sent,
			StartUnixNs: epoch.UnixNano() + sent, PromptTokens: int32(200 + rng.IntN(600))}
		switch k := rng.IntN(100); {
		case k == 0:
			fail(q, results.ErrorHTTP, 503, sent+int64(2*time.Millisecond))
		case k == 1:
			fail(q, results.ErrorTimeout, 0, sent+int64(30*time.Second))
		default:
			succeed(rng, q, o, sh)
		}
		q.Phase = phase(q.EndNs)
	}
	return rows
}

func fail(q *results.Request, kind string, status int32, end int64) {
	q.ErrorKind, q.HTTPStatus, q.EndNs, q.Error = kind, status, end, kind
}

func succeed(rng *rand.Rand, q *results.Request, o Options, sh shape) {
	out := o.MinTokens + rng.IntN(o.MaxTokens-o.MinTokens+1)
	ttft := int64(float64(100*time.Millisecond) * math.Exp(rng.NormFloat64()*0.6) * (1 + float64(sh.users)/256))
	gaps := make([]int64, out-1)
	var sum int64
	for k := range gaps {
		g := int64(8*time.Millisecond) + rng.Int64N(int64(8*time.Millisecond))
		if rng.IntN(200) == 0 {
			g *= 5 // a stall: a prefill of another request in the batch
		}
		gaps[k], sum = g, sum+g
	}
	chunks := make([]int32, out)
	for k := range chunks {
		chunks[k] = 1
	}
	q.HTTPStatus, q.FinishReason, q.ResponseID = 200, "length", "cmpl-treegen"
	q.FirstTokenNs, q.DoneNs = q.SentNs+ttft, q.SentNs+ttft+sum
	q.EndNs, q.TTFTNs, q.E2ENs = q.DoneNs+int64(time.Millisecond), ttft, ttft+sum
	if out > 1 {
		q.TPOTNs = sum / int64(out-1)
	}
	q.ITLNs, q.ChunkTokens, q.ChunkTokensSource = gaps, chunks, results.ChunkTokensOnePerChunk
	q.Chunks, q.OutputTokens, q.TokensFromUsage = int32(out), int32(out), true
}

// phase is the phase a request that ended at end belongs to.
func phase(end int64) string {
	switch {
	case end < int64(warmup):
		return results.PhaseWarmup
	case end < int64(warmup+runTime):
		return results.PhaseMeasure
	}
	return results.PhaseCooldown
}

// gpuSamples are one sample a second of every GPU over the experiment.
func gpuSamples(rng *rand.Rand, e results.Experiment, sh shape) []results.GPUSample {
	start := e.StartedAt
	ticks := int((warmup + runTime + cooldown) / time.Second)
	rows := make([]results.GPUSample, 0, ticks*sh.gpus)
	for t := range ticks {
		for g := range sh.gpus {
			busy := 60 + 40*rng.Float64()
			rows = append(rows, results.GPUSample{TimeUnixNs: start.Add(time.Duration(t) * time.Second).UnixNano(),
				OffsetNs: int64(time.Duration(t) * time.Second), Tick: int64(t), GPUIndex: int32(g),
				GPUUUID: "GPU-treegen", GPUName: "NVIDIA H100 80GB HBM3", Source: "nvidia-smi-query",
				SMUtilPct: ptr(busy), MemBWUtilPct: ptr(busy * 0.6), MemUsedMiB: ptr(70000 + 1000*rng.Float64()),
				MemTotalMiB: ptr(81559.0), PowerW: ptr(300 + 300*rng.Float64()), SMClockMHz: ptr(1980.0),
				TempC: ptr(50 + 20*rng.Float64())})
		}
	}
	return rows
}

func ptr[T any](v T) *T { return &v }
