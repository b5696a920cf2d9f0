package aggregate

import (
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/llmscale/llmscale/internal/treegen"
)

// exposition is the /metrics body the generated trees replay: vLLM v1 with DP 2.
const exposition = "../promscrape/testdata/metrics/vllm-v1-dp2.txt"

// genTree writes a tree of issue 18's shape with n experiments into a temporary folder.
func genTree(tb testing.TB, n int) string {
	tb.Helper()
	body, err := os.ReadFile(exposition)
	if err != nil {
		tb.Fatal(err)
	}
	o := treegen.Issue18(body)
	o.Experiments = n
	root := tb.TempDir()
	if _, err := treegen.Write(root, o); err != nil {
		tb.Fatal(err)
	}
	return root
}

// BenchmarkAggregateTree aggregates a generated tree of issue 18's shape (848 requests of
// 50–131 tokens, ~16,000 server-metric rows and GPU samples per experiment). experiments=4
// runs everywhere; LLMSCALE_BENCH_TREE_EXPERIMENTS=200 adds the issue's whole tree (169,600
// requests, 14.9 M chunk gaps, 3.2 M server-metric rows; a minute to generate), and
// LLMSCALE_BENCH_TREE=<folder> aggregates a tree already written
// (go run ./scripts/aggbench/gentree -out <folder>).
//
//	go test ./internal/aggregate -run '^$' -bench AggregateTree -benchtime 3x -count 6 | tee new.txt
//	benchstat old.txt new.txt
func BenchmarkAggregateTree(b *testing.B) {
	sizes := []int{4}
	if n, err := strconv.Atoi(os.Getenv("LLMSCALE_BENCH_TREE_EXPERIMENTS")); err == nil && n > 0 {
		sizes = append(sizes, n)
	}
	for _, n := range sizes {
		root := genTree(b, n)
		b.Run(fmt.Sprintf("experiments=%d", n), func(b *testing.B) { benchTree(b, root) })
	}
	if root := os.Getenv("LLMSCALE_BENCH_TREE"); root != "" {
		b.Run("tree=given", func(b *testing.B) { benchTree(b, root) })
	}
}

func benchTree(b *testing.B, root string) {
	b.ReportAllocs()
	for b.Loop() {
		rows, errs, err := Tree(root)
		if err != nil || len(errs) > 0 || len(rows) == 0 {
			b.Fatalf("%d rows, errors %v %v", len(rows), err, errs)
		}
	}
}
