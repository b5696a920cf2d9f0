package spec

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
)

// Level is one level of a free-form factor (a server flag, an environment variable, a load
// setting), kept as the text the user wrote so it can be passed on unchanged.
type Level string

// UnmarshalYAML accepts any scalar: 0.9, true and "abc" all become their text.
func (l *Level) UnmarshalYAML(b []byte) error {
	var v any
	if err := yaml.Unmarshal(b, &v); err != nil {
		return err
	}
	*l = Level(scalarText(v))
	return nil
}

// Match selects combinations for rules.exclude and rules.only: either an expression over the
// factors ("tp == 8 && prompts == 'short'") or a map of factor → level or list of levels, which
// matches when every listed factor has one of its levels.
type Match struct {
	Expr   string
	Levels map[string][]string
}

// UnmarshalYAML reads either form.
func (m *Match) UnmarshalYAML(b []byte) error {
	var v any
	if err := yaml.Unmarshal(b, &v); err != nil {
		return err
	}
	switch v := v.(type) {
	case string:
		m.Expr = v
		return nil
	case map[string]any:
		m.Levels = make(map[string][]string, len(v))
		for k, x := range v {
			if list, ok := x.([]any); ok {
				for _, e := range list {
					m.Levels[k] = append(m.Levels[k], scalarText(e))
				}
				continue
			}
			m.Levels[k] = []string{scalarText(x)}
		}
		return nil
	}
	return fmt.Errorf("want an expression or a map of factor: level, got %T", v)
}

// MarshalYAML writes the match back in the form it was read.
func (m Match) MarshalYAML() (any, error) {
	if m.Levels == nil {
		return m.Expr, nil
	}
	return m.Levels, nil
}

// String shows the match the way it was written, with keys in a stable order.
func (m Match) String() string {
	if m.Levels == nil {
		return m.Expr
	}
	keys := make([]string, 0, len(m.Levels))
	for k := range m.Levels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + strings.Join(m.Levels[k], "|")
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// scalarText renders a decoded YAML scalar as the user would write it.
func scalarText(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case uint64:
		return strconv.FormatUint(v, 10)
	case int64:
		return strconv.FormatInt(v, 10)
	}
	return fmt.Sprint(v)
}

// parseDuration reads Go durations ("90s", "3m", "1h30m") and a bare "0".
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration: write it like 90s, 3m or 1h30m", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return d, nil
}
