package workload

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// TraceEntry is one request of a trace: when it arrived (from the trace's first request) and
// its input and output lengths in tokens.
type TraceEntry struct {
	Arrival time.Duration
	In, Out int
}

// Column names a trace may use (lower case, spaces and dashes as underscores): BurstGPT's
// "Timestamp,Request tokens,Response tokens", Azure's "TIMESTAMP,ContextTokens,GeneratedTokens",
// Mooncake's JSONL "timestamp_ms…", and llmscale's own "arrival_s,input_tokens,output_tokens".
func traceTimeColumns() map[string]time.Duration {
	return map[string]time.Duration{"timestamp": time.Second, "time": time.Second, "offset": time.Second,
		"arrival": time.Second, "arrival_time": time.Second, "timestamp_s": time.Second, "time_s": time.Second,
		"offset_s": time.Second, "arrival_s": time.Second, "timestamp_ms": time.Millisecond,
		"time_ms": time.Millisecond, "offset_ms": time.Millisecond, "arrival_ms": time.Millisecond}
}

func traceInColumns() []string {
	return []string{"input_tokens", "input_length", "input_len", "prompt_tokens", "request_tokens", "contexttokens", "context_tokens"}
}

func traceOutColumns() []string {
	return []string{"output_tokens", "output_length", "output_len", "response_tokens", "generatedtokens",
		"generated_tokens", "completion_tokens"}
}

// MaxTraceEntries bounds a trace: prompts are made in memory, one per entry.
const MaxTraceEntries = 10_000_000

// ParseTrace reads a trace as CSV with a header, or JSON Lines (one object per line) when the
// first character is "{". The time column is in seconds (timestamp, arrival_s, …), in
// milliseconds (…_ms), or a date-time (RFC 3339 or "2006-01-02 15:04:05"); times must not go
// backwards. Every entry needs an input length of at least 1 and an output length of at least 1.
// Errors name the line.
func ParseTrace(data []byte) ([]TraceEntry, error) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	var rows [][2]string // time text, line number as text
	var ins, outs []string
	var unit time.Duration
	var err error
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		rows, ins, outs, unit, err = readTraceJSONL(data)
	} else {
		rows, ins, outs, unit, err = readTraceCSV(data)
	}
	if err != nil {
		return nil, err
	}
	return traceEntries(rows, ins, outs, unit)
}

// columnIndex finds the first header name in candidates.
func columnIndex(header []string, candidates []string) int {
	for i, h := range header {
		if slices.Contains(candidates, h) {
			return i
		}
	}
	return -1
}

func normaliseColumn(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	return strings.NewReplacer(" ", "_", "-", "_").Replace(h)
}

// traceColumns finds the time, input and output columns of a header.
func traceColumns(header []string) (ti, ii, oi int, unit time.Duration, err error) {
	times := traceTimeColumns()
	ti = slices.IndexFunc(header, func(h string) bool { _, ok := times[h]; return ok })
	ii, oi = columnIndex(header, traceInColumns()), columnIndex(header, traceOutColumns())
	if ti < 0 || ii < 0 || oi < 0 {
		return 0, 0, 0, 0, fmt.Errorf("header %v: want a time column (timestamp, arrival_s, timestamp_ms, …), an input "+
			"length (input_tokens, request_tokens, ContextTokens, …) and an output length (output_tokens, "+
			"response_tokens, GeneratedTokens, …)", header)
	}
	return ti, ii, oi, times[header[ti]], nil
}

func readTraceCSV(data []byte) (rows [][2]string, ins, outs []string, unit time.Duration, err error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, nil, nil, 0, fmt.Errorf("line 1: not a CSV header: %w", err)
	}
	for i := range header {
		header[i] = normaliseColumn(header[i])
	}
	ti, ii, oi, unit, err := traceColumns(header)
	if err != nil {
		return nil, nil, nil, 0, fmt.Errorf("line 1: %w", err)
	}
	need := max(ti, ii, oi)
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, nil, 0, err // csv's ParseError names the line
		}
		line, _ := r.FieldPos(0)
		if len(rec) <= need {
			return nil, nil, nil, 0, fmt.Errorf("line %d: %d fields, the header has more", line, len(rec))
		}
		if len(rows) == MaxTraceEntries {
			return nil, nil, nil, 0, fmt.Errorf("more than %d entries", MaxTraceEntries)
		}
		rows = append(rows, [2]string{rec[ti], strconv.Itoa(line)})
		ins, outs = append(ins, rec[ii]), append(outs, rec[oi])
	}
	return rows, ins, outs, unit, nil
}

func readTraceJSONL(data []byte) (rows [][2]string, ins, outs []string, unit time.Duration, err error) {
	var cols [3]int
	var header []string
	for n, raw := range bytes.Split(data, []byte("\n")) {
		line := n + 1
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			return nil, nil, nil, 0, fmt.Errorf("line %d: not a JSON object: %w", line, err)
		}
		fields := map[string]string{}
		for k, v := range obj {
			fields[normaliseColumn(k)] = strings.Trim(string(v), `"`)
		}
		if header == nil {
			for k := range fields {
				header = append(header, k)
			}
			slices.Sort(header)
			if cols[0], cols[1], cols[2], unit, err = traceColumns(header); err != nil {
				return nil, nil, nil, 0, fmt.Errorf("line %d: %w", line, err)
			}
		}
		t, tok := fields[header[cols[0]]]
		in, iok := fields[header[cols[1]]]
		out, ook := fields[header[cols[2]]]
		if !tok || !iok || !ook {
			return nil, nil, nil, 0, fmt.Errorf("line %d: lacks %s, %s or %s", line, header[cols[0]], header[cols[1]], header[cols[2]])
		}
		if len(rows) == MaxTraceEntries {
			return nil, nil, nil, 0, fmt.Errorf("more than %d entries", MaxTraceEntries)
		}
		rows = append(rows, [2]string{t, strconv.Itoa(line)})
		ins, outs = append(ins, in), append(outs, out)
	}
	return rows, ins, outs, unit, nil
}

// traceEntries turns the text fields into entries, times relative to the first.
func traceEntries(rows [][2]string, ins, outs []string, unit time.Duration) ([]TraceEntry, error) {
	out := make([]TraceEntry, len(rows))
	var first, prev time.Duration
	for i, row := range rows {
		at, err := traceTime(row[0], unit)
		if err != nil {
			return nil, fmt.Errorf("line %s: time %q: %w", row[1], row[0], err)
		}
		if i == 0 {
			first = at
		} else if at < prev {
			return nil, fmt.Errorf("line %s: time %q is before the previous entry's: sort the trace by time", row[1], row[0])
		}
		prev = at
		e := TraceEntry{Arrival: at - first}
		for _, f := range []struct {
			name, text string
			dst        *int
		}{{"input length", ins[i], &e.In}, {"output length", outs[i], &e.Out}} {
			v, err := strconv.Atoi(strings.TrimSpace(f.text))
			if err != nil || v < 1 || v > MaxRandomTokens {
				return nil, fmt.Errorf("line %s: %s %q: want a whole number from 1 to %d", row[1], f.name, f.text, MaxRandomTokens)
			}
			*f.dst = v
		}
		out[i] = e
	}
	return out, nil
}

// traceTime reads a time: a number in unit, or a date-time.
func traceTime(s string, unit time.Duration) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		d := v * float64(unit)
		if math.IsNaN(d) || math.Abs(d) > float64(math.MaxInt64/2) {
			return 0, errors.New("out of range")
		}
		return time.Duration(d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return time.Duration(t.UnixNano()), nil
		}
	}
	return 0, errors.New("not a number of seconds (or ms for *_ms columns) nor a date-time")
}

// tracePrompts makes one prompt per trace entry, in trace order: random token IDs (words for
// the chat API) of the entry's input length, its output length as max_tokens, and its arrival.
func tracePrompts(data []byte, rng *rand.Rand, opts Options) ([]Prompt, error) {
	entries, err := ParseTrace(data)
	if err != nil {
		return nil, err
	}
	words := strings.Fields(syntheticVocabulary)
	out := make([]Prompt, len(entries))
	for i, e := range entries {
		p := Prompt{Tokens: e.In, MaxTokens: e.Out, Arrival: e.Arrival, Timed: true}
		ids := randomIDs(rng, e.In, opts.VocabSize)
		if opts.TextOnly {
			text := make([]string, len(ids))
			for j, id := range ids {
				text[j] = words[id%len(words)]
			}
			p.Text, p.Synthetic = strings.Join(text, " "), true
		} else {
			p.TokenIDs = ids
		}
		out[i] = p
	}
	return out, nil
}
