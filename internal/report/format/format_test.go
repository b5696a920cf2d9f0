package format

import (
	"math"
	"testing"
)

func TestFormat(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		got, want string
	}{
		{Num(12345.6), "12,346"}, {Num(-1234567), "-1,234,567"}, {Num(123.4), "123"},
		{Num(12.34), "12.3"}, {Num(1.234), "1.23"}, {Num(0.01234), "0.0123"}, {Num(0), "0"},
		{Num(math.NaN()), "–"}, {Param(0.0812), "0.081"}, {Param(0.0052), "0.0052"}, {Param(0), "0.000"},
		{Pct(0.643), "64 %"}, {Speedup(5.12), "5.1×"}, {Speedup(12.4), "12×"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
