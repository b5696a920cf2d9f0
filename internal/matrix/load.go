package matrix

import (
	"errors"

	"github.com/llmscale/llmscale/internal/spec"
)

// PlanFile reads a matrix file with its overrides and expands it, reporting every problem at once:
// those of the file and its values, and those of its rules.
func PlanFile(path, name string, overlays ...spec.Overlay) (*spec.Loaded, Plan, error) {
	return planOf(spec.LoadFile(path, name, overlays...))
}

// PlanBytes is PlanFile for a matrix held in memory; dir is where its relative paths start.
func PlanBytes(data []byte, name, dir string, overlays ...spec.Overlay) (*spec.Loaded, Plan, error) {
	return planOf(spec.Parse(data, name, dir, overlays...))
}

func planOf(l *spec.Loaded, err error) (*spec.Loaded, Plan, error) {
	var invalid *spec.Error
	if err != nil && (l == nil || !errors.As(err, &invalid)) {
		return nil, Plan{}, err
	}
	if err != nil {
		_, ruleProblems := compileRules(l, dimensions(&l.Spec))
		return nil, Plan{}, l.Errorf(append(invalid.Problems, ruleProblems...))
	}
	p, err := Expand(l)
	if err != nil {
		return nil, Plan{}, err
	}
	return l, p, nil
}
