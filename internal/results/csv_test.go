package results

import (
	"math"
	"strings"
	"testing"
)

func TestWriteCSV(t *testing.T) {
	t.Parallel()
	type row struct {
		Name string   `parquet:"name"`
		N    int64    `parquet:"n"`
		X    *float64 `parquet:"x_ms,optional"`
		Y    float64  `parquet:"y"`
		OK   bool     `parquet:"ok"`
	}
	x := 0.1
	var b strings.Builder
	if err := WriteCSV(&b, []row{{"a,b", 3, &x, math.NaN(), true}, {"c", -1, nil, 2.5, false}}); err != nil {
		t.Fatal(err)
	}
	want := "name,n,x_ms,y,ok\n\"a,b\",3,0.1,,true\nc,-1,,2.5,false\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	type bad struct {
		M map[string]string `parquet:"m"`
	}
	if err := WriteCSV(&b, []bad{{}}); err == nil || !strings.Contains(err.Error(), "column m") {
		t.Errorf("a map column: %v, want an error naming it", err)
	}
}
