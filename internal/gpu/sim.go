package gpu

import (
	"context"
	"time"
)

// SimSource reads the GPU activity the built-in simulator exports (`llmscale sim` serves it
// at /sim/dcgm/metrics in dcgm-exporter's format). Its readings carry the simulator's device
// names ("sim:h100-sxm") and the source name "sim", so gpu.parquet rows of a simulated run are
// never mistaken for a real GPU's, while every GPU rule of the diagnosis runs on them.
type SimSource struct {
	URL string // e.g. http://127.0.0.1:8000/sim/dcgm/metrics
	// Devices maps the simulator's GPU index i to Devices[i] (the devices of its server
	// instance), so the GPUs of several simulator processes do not collide; nil keeps i.
	Devices []int
}

// Name is "sim".
func (s *SimSource) Name() string { return "sim" }

// Run scrapes until ctx is done; the first failed scrape ends it with the error.
func (s *SimSource) Run(ctx context.Context, poll time.Duration, put func(Reading)) error {
	d := DCGMSource{URL: s.URL}
	return d.Run(ctx, poll, func(r Reading) {
		if r.Index < len(s.Devices) {
			r.Index = s.Devices[r.Index]
		}
		put(r)
	})
}
