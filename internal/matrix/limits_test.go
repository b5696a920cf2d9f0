package matrix

import (
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// TestPlanCap: the size of a plan is known before it is expanded, so a matrix of 10⁷
// combinations is refused at once (and without the memory expanding it would take), while
// --max-experiments lets a big plan through on purpose.
func TestPlanCap(t *testing.T) {
	t.Parallel()
	levels := make([]string, 100)
	for i := range levels {
		levels[i] = strconv.Itoa(i + 1)
	}
	list := "[" + strings.Join(levels, ",") + "]"
	huge := "factors: {prompts: ['random:8'], users: " + list + ", max_tokens: " + list + ", batch_size: " + list + "}\nrepeats: 10\n"
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err := PlanBytes([]byte(huge), "t.yaml", t.TempDir())
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "makes 10000000 candidate experiments (batch_size 100 × users 100 × max_tokens 100 × repeats 10), over the cap of 10000") ||
		!strings.Contains(err.Error(), "--max-experiments") {
		t.Fatalf("got %v", err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
		t.Errorf("refusing the plan allocated %d MB: it was expanded", grew>>20)
	}
	small := "factors: {prompts: ['random:8'], users: [1,2,3], max_tokens: [1,2]}\n"
	if _, _, err := PlanBytes([]byte(small+"max_experiments: 5\n"), "t.yaml", t.TempDir()); err == nil || !strings.Contains(err.Error(), "6 candidate experiments") {
		t.Errorf("cap 5: %v", err)
	}
	if _, p, err := PlanBytes([]byte(small+"max_experiments: 6\n"), "t.yaml", t.TempDir()); err != nil || len(p.Experiments) != 6 {
		t.Errorf("cap 6: %d experiments, %v", len(p.Experiments), err)
	}
}
