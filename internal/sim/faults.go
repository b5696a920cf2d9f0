package sim

import (
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
)

// faultPlan is what goes wrong with one request. It is drawn from the seed and the request's
// number, so a given request misbehaves the same way on every run.
type faultPlan struct {
	fail    bool // answer with the configured error status at once
	stallAt int  // pause once after this many tokens; -1 never
	dropAt  int  // cut the connection after this many tokens; -1 never
	// errorAt sends an error event (and [DONE]) after this many tokens, as vLLM does when its
	// engine fails mid-stream; -1 never.
	errorAt    int
	resetAt    int  // reset the TCP connection (RST, SO_LINGER 0) after this many tokens; -1 never
	stallFirst bool // pause before the first byte (before the response headers)
	rng        *rand.Rand
	rate       float64 // malformed-chunk probability
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
	// The faults added later draw from a stream of their own, so the draws above (and the
	// malformed-chunk draws that follow on rng) are those of earlier releases.
	later := rand.New(rand.NewPCG(uint64(seed), seq^0xfa018))
	streamErr, reset, first := later.Float64(), later.Float64(), later.Float64()
	p.errorAt, p.resetAt = -1, -1
	if streamErr < f.StreamErrorRate {
		p.errorAt = max(1, output/2)
	}
	if reset < f.ResetRate {
		p.resetAt = max(1, output/2)
	}
	p.stallFirst = first < f.FirstByteStallRate
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

// errStreamFault is the error event of the stream-error fault.
func errStreamFault() *apiError {
	return &apiError{Status: http.StatusInternalServerError, Type: "InternalServerError",
		Message: "simulated engine failure inside the stream (llmscale sim --fault-stream-error-rate)"}
}

// resetConnection takes the connection from the HTTP server and closes it with SO_LINGER 0,
// so the kernel sends a TCP RST instead of a FIN: the client reads "connection reset by peer".
// Connections that are not TCP (in-memory pipes in tests) are just closed.
func resetConnection(w http.ResponseWriter) error {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return err
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		err = tcp.SetLinger(0)
	}
	return errors.Join(err, conn.Close())
}
