package tokens

import "testing"

func TestCount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text string
		want int
	}{
		{"", 0},
		{"   ", 0},
		{"the", 1},
		{" the", 1},
		{"four", 1},
		{"fives", 2},
		{"internationalization", 5},
		{"Hello, world!", 6},
		{"a b c", 3},
		{"2025-07-19", 5},
		{"héllo", 2},
	}
	for _, tt := range tests {
		if got := Count(tt.text); got != tt.want {
			t.Errorf("Count(%q) = %d, want %d", tt.text, got, tt.want)
		}
	}
}

func TestCountAdds(t *testing.T) {
	t.Parallel()
	// Words that start with a space count independently, which is what lets the simulator emit
	// output whose token count the client can recount exactly.
	parts := []string{" the", " model", " answered", ",", " quickly"}
	whole, sum := "", 0
	for _, p := range parts {
		whole += p
		sum += Count(p)
	}
	if got := Count(whole); got != sum {
		t.Fatalf("Count(%q) = %d, want sum of parts %d", whole, got, sum)
	}
}

func FuzzCount(f *testing.F) {
	f.Add("Hello, world!")
	f.Fuzz(func(t *testing.T, s string) {
		if n := Count(s); n < 0 || n > len(s) {
			t.Fatalf("Count(%q) = %d out of [0, %d]", s, n, len(s))
		}
	})
}
