package sim

import (
	"math/rand/v2"
	"net/http"
)

// faultPlan is what goes wrong with one request. It is drawn from the seed and the request's
// number, so a given request misbehaves the same way on every run.
type faultPlan struct {
	fail    bool // answer with the configured error status at once
	stallAt int  // pause once after this many tokens; -1 never
	dropAt  int  // cut the connection after this many tokens; -1 never
	rng     *rand.Rand
	rate    float64 // malformed-chunk probability
}

// planFaults draws request seq's faults for a response of output tokens.
func planFaults(f Faults, seed int64, seq uint64, output int) faultPlan {
	rng := rand.New(rand.NewPCG(uint64(seed), seq^0xfa017))
	p := faultPlan{stallAt: -1, dropAt: -1, rng: rng, rate: f.MalformedRate}
	// Draw every decision, used or not, so one fault's rate does not shift another's draws.
	fail, stall, drop := rng.Float64(), rng.Float64(), rng.Float64()
	p.fail = fail < f.ErrorRate
	if stall < f.StallRate {
		p.stallAt = max(1, output/2)
	}
	if drop < f.DropRate {
		p.dropAt = max(1, output/2)
	}
	return p
}

// malformed reports whether the next chunk is broken.
func (p *faultPlan) malformed() bool { return p.rate > 0 && p.rng.Float64() < p.rate }

// errFault is the error answered by the error-rate fault.
func errFault(status int) *apiError {
	return &apiError{Status: status, Type: errorType(status),
		Message: "simulated failure (llmscale sim --fault-error-rate)"}
}

// dropConnection cuts the client's connection without finishing the response.
func dropConnection() { panic(http.ErrAbortHandler) }
