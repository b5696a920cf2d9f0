package compare

import (
	"slices"
	"strings"

	"github.com/llmscale/llmscale/internal/aggregate"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/sweep"
)

// KeyColumns are the columns that make two experiments "the same experiment" on both sides:
// the factors of the matrix. Engine, model and server version are left out, so a vLLM upgrade
// or another engine is compared point by point; name them in a selection to pick one. A
// sweep's points match by their stage and index, not by rate: each campaign sets its rate
// points from the throughput it measured (keyText).
func KeyColumns() []string {
	return []string{"gpus", "tp", "dp", "pp", "mode", "users", "concurrency", "rate",
		"sweep_stage", "sweep_index", "prompts", "max_tokens", "batch_size", "mbt", "api", "extra_factors"}
}

// keyText is a row's value of key column k, the same on both sides for the same point of the
// matrix: a sweep's rate point has no rate of its own there.
func keyText(cols map[string]column, k string, r *aggregate.Row) string {
	if k == "rate" && r.SweepStage == sweep.StageRate {
		return "(sweep)"
	}
	return cols[k].text(r)
}

// Point is one experiment of the matrix found on both sides (or on one only): its key values
// and the rows of every repeat.
type Point struct {
	Key  []Filter // key columns and values, in KeyColumns order
	A, B []*aggregate.Row
}

// Label writes the key columns that tell points apart (those in vary), as "gpus=2 tp=2 users=64".
func (p Point) Label(vary []string) string {
	var parts []string
	for _, f := range p.Key {
		if slices.Contains(vary, f.Column) {
			parts = append(parts, f.Column+"="+f.Value)
		}
	}
	if len(parts) == 0 {
		return "all"
	}
	return strings.Join(parts, " ")
}

// keyColumns is KeyColumns without the ignored and the selected ones.
func keyColumns(ignore []string) []string {
	return slices.DeleteFunc(KeyColumns(), func(c string) bool { return slices.Contains(ignore, c) })
}

// match pairs the done experiments of both sides by key, in the order of A's rows then B's
// leftovers. Points found on one side only have an empty A or B.
func match(a, b []aggregate.Row, keys []string) []Point {
	cols := columnsOf()
	var points []Point
	index := map[string]int{}
	add := func(rows []aggregate.Row, side int) {
		for i := range rows {
			r := &rows[i]
			if r.Status != results.StatusDone {
				continue
			}
			key := make([]Filter, len(keys))
			for j, k := range keys {
				key[j] = Filter{Column: k, Value: keyText(cols, k, r)}
			}
			id := keyID(key)
			n, ok := index[id]
			if !ok {
				n, index[id] = len(points), len(points)
				points = append(points, Point{Key: key})
			}
			if side == 0 {
				points[n].A = append(points[n].A, r)
			} else {
				points[n].B = append(points[n].B, r)
			}
		}
	}
	add(a, 0)
	add(b, 1)
	return points
}

func keyID(key []Filter) string {
	var sb strings.Builder
	for _, f := range key {
		sb.WriteString(f.Column + "=" + f.Value + "\x00")
	}
	return sb.String()
}

// varying lists the key columns whose value differs between points: the only ones a label
// needs.
func varying(points []Point, keys []string) []string {
	var out []string
	for j, k := range keys {
		for _, p := range points[min(1, len(points)):] {
			if p.Key[j].Value != points[0].Key[j].Value {
				out = append(out, k)
				break
			}
		}
	}
	return out
}
