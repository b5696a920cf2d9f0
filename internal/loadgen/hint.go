package loadgen

import (
	"fmt"
	"strings"

	"github.com/llmscale/llmscale/internal/loadspec"
)

// FailureHint says what to do about failures whose messages name their cause, or "" when none
// does. It reads the first distinct errors of a summary ("kind: message"): a server that
// answers 400 to every prompt is up, and the hint must not send the user looking for it.
func FailureHint(firstErrors []string, targets []string, model string, api loadspec.API) string {
	for _, e := range firstErrors {
		low := strings.ToLower(e)
		switch {
		case strings.Contains(low, "invalid token") || strings.Contains(low, "out of vocabulary") ||
			strings.Contains(low, "token id"):
			return "the server refused the prompt's token ids: random:IN prompts draw ids from [1000, 100000) unless the " +
				"vocabulary size is known; set load.vocab_size in the matrix (or --vocab-size) to the model's vocabulary " +
				"size (llama.cpp's /v1/models reports it as meta.n_vocab, and a campaign reads it there itself)"
		case strings.Contains(low, "context size") || strings.Contains(low, "context length"):
			return "the prompt plus max_tokens does not fit the server's context: shorten the prompts or max_tokens, or give " +
				"the server a longer context (llama.cpp divides --ctx-size among its --parallel slots)"
		}
	}
	for _, e := range firstErrors {
		if strings.HasPrefix(e, "connect:") || strings.Contains(e, "connection refused") {
			return fmt.Sprintf("is the server up at %s?", strings.Join(targets, ", "))
		}
	}
	return fmt.Sprintf("is the server up at %s, and does it serve model %q on the %s API?", strings.Join(targets, ", "), model, api)
}
