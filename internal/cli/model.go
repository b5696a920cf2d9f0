package cli

import (
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"github.com/llmscale/llmscale/internal/gguf"
	"github.com/llmscale/llmscale/internal/results"
)

func newModelCmd(env Env) *cobra.Command {
	c := &cobra.Command{
		Use:   "model",
		Short: "Write models to serve without downloading one (random weights, GGUF for llama.cpp)",
		Args:  cobra.NoArgs,
	}
	c.AddCommand(newModelRandomCmd(env))
	return c
}

func newModelRandomCmd(env Env) *cobra.Command {
	var out, size, name string
	var seed uint64
	var ctx, vocab int
	c := &cobra.Command{
		Use:   "random --out FILE.gguf [--size " + strings.Join(gguf.SizeNames(), "|") + "]",
		Short: "Write a random-weight llama model as GGUF, for llama-server",
		Long: `model random writes a llama-architecture model with random weights and a
SentencePiece-style vocabulary (tokenizer "llama": <unk>, <s>, </s>, byte tokens <0x00>…<0xFF>,
printable characters, then made-up pieces). Its output is random text that always decodes:
special and byte tokens are never generated, so every request runs to max_tokens. The same
--seed writes the same bytes. Sizes: ` + sizeList() + `.
Nothing is downloaded; the file is written atomically.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if out == "" {
				return usageError(c, "--out is required")
			}
			shape, err := gguf.ShapeOf(size)
			if err != nil {
				return usageError(c, "--size: %v", err)
			}
			if c.Flags().Changed("context") {
				shape.Context = ctx
			}
			if c.Flags().Changed("vocab") {
				shape.Vocab = vocab
			}
			if err := shape.Validate(); err != nil {
				return usageError(c, "%v", err)
			}
			if name == "" {
				name = "llmscale-random-" + size
			}
			m := gguf.Model{Name: name, Shape: shape, Seed: seed, Workers: runtime.GOMAXPROCS(0)}
			if err := results.WriteAtomic(out, func(w io.Writer) error { return m.Write(w) }); err != nil {
				return withCode(err, ExitFailed)
			}
			fmt.Fprintf(env.Stdout, "%s: %s, %.1fM parameters, vocabulary %d, context %d, seed %d\n",
				out, name, float64(shape.Params())/1e6, shape.Vocab, shape.Context, seed)
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&out, "out", "", "GGUF file to write")
	f.StringVar(&size, "size", "tiny", "model shape: "+strings.Join(gguf.SizeNames(), ", "))
	f.StringVar(&name, "name", "", "general.name in the file (default llmscale-random-SIZE)")
	f.Uint64Var(&seed, "seed", 1, "random seed of the weights")
	f.IntVar(&ctx, "context", 0, "llama.context_length (default: the size's)")
	f.IntVar(&vocab, "vocab", 0, "vocabulary size, specials and byte tokens included (default: the size's)")
	return c
}

func sizeList() string {
	var parts []string
	for _, n := range gguf.SizeNames() {
		s, _ := gguf.ShapeOf(n)
		parts = append(parts, fmt.Sprintf("%s (%.1fM parameters, %d layers, hidden %d, vocabulary %d, ~%s)",
			n, float64(s.Params())/1e6, s.Layers, s.Embedding, s.Vocab, humanBytes(s.Bytes())))
	}
	return strings.Join(parts, ", ")
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.0f KiB", float64(n)/(1<<10))
}
