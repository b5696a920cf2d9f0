package fit

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseTableGood(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		file string // in testdata; or
		text string
		want []Series
	}{
		{
			name: "published table with repeats, mixed-case header and a comment", file: "published.csv",
			want: []Series{
				{Name: "tp", Points: []Point{
					{1, 1510.2, 1}, {1, 1498.7, 2}, {2, 2850, 1}, {2, 2872.5, 2},
					{4, 5010, 1}, {4, 4987, 2}, {8, 8120, 1}, {8, 8203.3, 2},
				}},
				{Name: "dp", Points: []Point{{1, 1505, 1}, {2, 2990, 1}, {4, 5870, 1}, {8, 11200, 1}}},
			},
		},
		{
			name: "semicolons, byte-order mark, CRLF, columns reordered", file: "semicolon_bom.csv",
			want: []Series{{Name: "a", Points: []Point{{1, 1500.5, 1}, {2, 2900, 1}}}},
		},
		{
			name: "tabs, an extra column ignored, repeats numbered in file order", file: "tabs_extra_column.csv",
			want: []Series{{Name: "x", Points: []Point{{1, 100, 1}, {1, 102, 2}, {2, 190, 1}}}},
		},
		{
			name: "spaces around values, blank lines, scientific notation, repeat 0",
			text: " series , gpus , throughput , repeat \n\n a , 1 , 1e3 , 0 \n a , 2 , 1.9e3 , 0 \n",
			want: []Series{{Name: "a", Points: []Point{{1, 1000, 0}, {2, 1900, 0}}}},
		},
		{
			name: "quoted series name with a comma",
			text: "series,gpus,throughput\n\"llama, tp\",1,10\n\"llama, tp\",2,19\n",
			want: []Series{{Name: "llama, tp", Points: []Point{{1, 10, 1}, {2, 19, 1}}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := []byte(tt.text)
			if tt.file != "" {
				var err error
				if data, err = os.ReadFile(filepath.Join("testdata", tt.file)); err != nil {
					t.Fatal(err)
				}
			}
			got, err := ParseTable(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseTable (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseTableBad(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		file string
		text string
		want string
	}{
		{name: "empty", text: "", want: "table is empty: the header must name the columns series, gpus and throughput"},
		{name: "only comments", text: "# nothing\n\n", want: "table is empty"},
		{name: "header only", text: "series,gpus,throughput\n", want: "header but no data rows"},
		{name: "missing columns", text: "name,GPUs,tok_s\nx,1,2\n",
			want: "line 1: header lacks series, throughput; the header must name the columns series, gpus and throughput (and optionally repeat), in any order (it has: name, GPUs, tok_s)"},
		{name: "duplicate column", text: "series,gpus,Throughput,throughput\n", want: `line 1, column 4: column "throughput" appears twice (also column 3)`},
		{name: "gpus not a number", file: "bad_gpus.csv", want: `line 3, column 2 (gpus): "two" is not a GPU count; write a whole number of 1 or more`},
		{name: "gpus zero", text: "series,gpus,throughput\n# c\ntp,0,5\n", want: `line 3, column 2 (gpus): "0" is not a GPU count`},
		{name: "gpus fractional", text: "series,gpus,throughput\ntp,1.5,5\n", want: `"1.5" is not a GPU count`},
		{name: "decimal comma", file: "bad_decimal_comma.csv", want: `line 2, column 3 (throughput): "1500,5" is not a throughput; write a number greater than zero such as 1234.5 (a dot for decimals`},
		{name: "throughput zero", text: "throughput,series,gpus\n0,tp,1\n", want: `line 2, column 1 (throughput): "0" is not a throughput`},
		{name: "throughput NaN", text: "series,gpus,throughput\ntp,1,NaN\n", want: `"NaN" is not a throughput`},
		{name: "throughput Inf", text: "series,gpus,throughput\ntp,1,+Inf\n", want: `"+Inf" is not a throughput`},
		{name: "throughput with unit", text: "series,gpus,throughput\ntp,1,100 tok/s\n", want: `"100 tok/s" is not a throughput`},
		{name: "empty series", text: "series,gpus,throughput\n ,1,5\n", want: "line 2, column 1 (series): empty series name"},
		{name: "negative repeat", text: "series,gpus,throughput,repeat\ntp,1,5,-1\n", want: `line 2, column 4 (repeat): "-1" is not a repeat number`},
		{name: "empty repeat", text: "series,gpus,throughput,repeat\ntp,1,5,\n", want: `line 2, column 4 (repeat): "" is not a repeat number; write a whole number of 0 or more, or drop the column`},
		{name: "duplicate repeat", text: "series,gpus,throughput,repeat\ntp,1,5,1\ntp,2,9,1\ntp,1,6,1\n",
			want: `line 4: series "tp", gpus 1, repeat 1 is already on line 2; give each repeat its own number`},
		{name: "short row", text: "series,gpus,throughput\ntp,1\n", want: "line 2: wrong number of fields: the header has 3 columns; give every row one value per column"},
		{name: "bad quote", file: "bad_quote.csv", want: "line 2, character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := []byte(tt.text)
			if tt.file != "" {
				var err error
				if data, err = os.ReadFile(filepath.Join("testdata", tt.file)); err != nil {
					t.Fatal(err)
				}
			}
			got, err := ParseTable(bytes.NewReader(data))
			if err == nil {
				t.Fatalf("no error, got %+v", got)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

// FuzzParseTable: no panic, and either an error or series that Analyze accepts point by point.
func FuzzParseTable(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.csv"))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("series,gpus,throughput\n\"a\"\"b\",1,2\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ParseTable(bytes.NewReader(data))
		if err != nil {
			if got != nil {
				t.Errorf("error %v with series %+v", err, got)
			}
			return
		}
		if len(got) == 0 {
			t.Fatal("no error and no series")
		}
		seen := map[string]bool{}
		for _, s := range got {
			if s.Name == "" || seen[s.Name] || len(s.Points) == 0 {
				t.Errorf("bad series %+v", s)
			}
			seen[s.Name] = true
			for _, p := range s.Points {
				if checkPoint(p) != nil || p.Repeat < 0 || math.IsNaN(p.Throughput) {
					t.Errorf("series %q: bad point %+v", s.Name, p)
				}
			}
		}
	})
}
