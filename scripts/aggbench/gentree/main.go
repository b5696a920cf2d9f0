// Command gentree writes the synthetic results tree the aggregation benchmark and the DuckDB
// comparison read (internal/treegen):
//
//	go run ./scripts/aggbench/gentree -out /tmp/aggtree
//
// The defaults are the tree of issue 18 (200 experiments, 169,500 requests, 14.9 M chunk
// gaps, 3.2 M server-metric rows, vLLM's DP 2 /metrics replayed); -experiments makes it
// smaller or larger at the same shape.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/llmscale/llmscale/internal/treegen"
)

func main() {
	out := flag.String("out", "", "folder to write the tree to (its raw/ must not exist)")
	exposition := flag.String("metrics", "internal/promscrape/testdata/metrics/vllm-v1-dp2.txt",
		"the /metrics body every scrape replays (\"\": no server metrics)")
	experiments := flag.Int("experiments", 200, "experiments")
	seed := flag.Uint64("seed", 18, "seed")
	flag.Parse()
	if err := run(*out, *exposition, *experiments, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "gentree:", err)
		os.Exit(1)
	}
}

func run(out, exposition string, experiments int, seed uint64) error {
	if out == "" {
		return fmt.Errorf("-out is required")
	}
	if _, err := os.Stat(out + "/raw"); err == nil {
		return fmt.Errorf("%s/raw exists: give an empty folder", out)
	}
	var body []byte
	if exposition != "" {
		var err error
		if body, err = os.ReadFile(exposition); err != nil {
			return err
		}
	}
	o := treegen.Issue18(body)
	o.Experiments, o.Seed = experiments, seed
	st, err := treegen.Write(out, o)
	if err != nil {
		return err
	}
	fmt.Printf("%s: %d experiments, %d requests, %d chunk gaps, %d server-metric rows, %d GPU rows\n",
		out, st.Experiments, st.Requests, st.Gaps, st.ServerMetricRows, st.GPURows)
	return nil
}
