package charts

import (
	"slices"
	"testing"

	"github.com/llmscale/llmscale/internal/reportdata"
)

func TestParetoFrontier(t *testing.T) {
	t.Parallel()
	pts := []reportdata.ParetoPoint{
		{ExpID: "a", PerUser: 10, PerGPU: 100},
		{ExpID: "b", PerUser: 20, PerGPU: 80},
		{ExpID: "c", PerUser: 15, PerGPU: 70}, // beaten by b
		{ExpID: "d", PerUser: 30, PerGPU: 20},
		{ExpID: "e", PerUser: 10, PerGPU: 90}, // beaten by a
	}
	var got []string
	for _, i := range paretoFrontier(pts) {
		got = append(got, pts[i].ExpID)
	}
	if want := []string{"a", "b", "d"}; !slices.Equal(got, want) {
		t.Errorf("frontier = %v, want %v", got, want)
	}
}
