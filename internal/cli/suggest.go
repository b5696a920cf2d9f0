package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/llmscale/llmscale/internal/spec"
)

// flagError answers a wrong flag with a usage error; an unknown flag close to one the command
// has gets "did you mean --x?".
func flagError(c *cobra.Command, err error) error {
	name, ok := strings.CutPrefix(err.Error(), "unknown flag: --")
	if ok {
		if s := suggestFlag(c.Flags(), name); s != "" {
			return withHint(withCode(fmt.Errorf("%w (did you mean --%s?)", err, s), ExitUsage), "see `%s --help`", c.CommandPath())
		}
	}
	return withHint(withCode(err, ExitUsage), "see `%s --help`", c.CommandPath())
}

// suggestFlag is the command's flag nearest to name: within two edits, or a flag name begins
// with it (or it with the flag name); "" when none is near.
func suggestFlag(fs *pflag.FlagSet, name string) string {
	name, _, _ = strings.Cut(name, "=")
	best, bestDist := "", 3
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		d := editDistance(strings.ToLower(name), f.Name)
		if d > 2 && len(name) >= 4 && (strings.HasPrefix(f.Name, name) || strings.HasPrefix(name, f.Name)) {
			d = 2
		}
		if d < bestDist {
			best, bestDist = f.Name, d
		}
	})
	return best
}

// editDistance is spec's Levenshtein distance with '_' and '-' alike (Python users write
// --request_rate).
func editDistance(a, b string) int {
	return spec.EditDistance(strings.ReplaceAll(a, "_", "-"), strings.ReplaceAll(b, "_", "-"))
}
