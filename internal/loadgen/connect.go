package loadgen

import (
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/stats"
)

// connectTimes keeps, for the summary, each request's connect time with when it ended: the
// figure says whether TTFT included waiting for connections (a burst start without
// connections opened ahead, or a server that closes kept-alive ones).
type connectTimes struct {
	end, connect []int64
}

func (c *connectTimes) add(rec *results.Request) {
	if rec.ConnectNs > 0 {
		c.end, c.connect = append(c.end, rec.EndNs), append(c.connect, rec.ConnectNs)
	}
}

// stat is the connect time (ms) of the requests that ended in [from, to), whatever their
// outcome: a request that failed after its connect waited for it too.
func (c *connectTimes) stat(from, to int64) Stat {
	var v []float64
	for i, e := range c.end {
		if e >= from && e < to {
			v = append(v, ms(c.connect[i]))
		}
	}
	return stats.NewStat(v)
}
