package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// refuseNonPositive returns a usage error for each named flag the user gave with a value of 0
// or less: a flag given is honoured or refused, never silently replaced by a default.
func refuseNonPositive(fs *pflag.FlagSet, names ...string) error {
	var bad []string
	for _, name := range names {
		fl := fs.Lookup(name)
		if fl == nil || !fl.Changed {
			continue
		}
		if !positive(fl.Value.String()) {
			bad = append(bad, fmt.Sprintf("--%s %s", name, fl.Value.String()))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return fmt.Errorf("%s: must be above 0 (leave the flag out for its default)", strings.Join(bad, ", "))
}

// positive reads a flag's text as a number or a duration.
func positive(text string) bool {
	if f, err := strconv.ParseFloat(text, 64); err == nil {
		return f > 0
	}
	if d, err := time.ParseDuration(text); err == nil {
		return d > 0
	}
	return true // not a number: the flag's own parser has judged it
}
