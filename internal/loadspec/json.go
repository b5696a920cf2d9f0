package loadspec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// duration is a time.Duration written as Go writes it ("1m30s").
type duration time.Duration

func (d duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

func (d *duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration: write it like 90s, 1m30s or 500ms", b)
	}
	*d = duration(v)
	return nil
}

// sloJSON is SLO as JSON.
type sloJSON struct {
	TTFT duration `json:"ttft"`
	TPOT duration `json:"tpot"`
	E2E  duration `json:"e2e"`
}

// plain is Load without its methods, so loadJSON can embed it.
type plain Load

// loadJSON is Load as JSON: its durations as text, over the rest of its fields.
type loadJSON struct {
	plain
	Warmup       duration `json:"warmup"`
	RunTime      duration `json:"run_time"`
	Cooldown     duration `json:"cooldown"`
	ThinkTime    duration `json:"think_time"`
	Timeout      duration `json:"timeout"`
	StallTimeout duration `json:"stall_timeout"`
	Grace        duration `json:"grace"`
	StartRamp    duration `json:"start_ramp"`
	SLO          sloJSON  `json:"slo"`
}

func toJSON(l Load) loadJSON {
	return loadJSON{plain: plain(l), Warmup: duration(l.Warmup), RunTime: duration(l.RunTime),
		Cooldown: duration(l.Cooldown), ThinkTime: duration(l.ThinkTime), Timeout: duration(l.Timeout),
		StallTimeout: duration(l.StallTimeout), Grace: duration(l.Grace), StartRamp: duration(l.StartRamp),
		SLO: sloJSON{TTFT: duration(l.SLO.TTFT), TPOT: duration(l.SLO.TPOT), E2E: duration(l.SLO.E2E)}}
}

func (j loadJSON) load() Load {
	l := Load(j.plain)
	l.Warmup, l.RunTime, l.Cooldown = time.Duration(j.Warmup), time.Duration(j.RunTime), time.Duration(j.Cooldown)
	l.ThinkTime, l.Timeout = time.Duration(j.ThinkTime), time.Duration(j.Timeout)
	l.StallTimeout, l.Grace, l.StartRamp = time.Duration(j.StallTimeout), time.Duration(j.Grace), time.Duration(j.StartRamp)
	l.SLO = SLO{TTFT: time.Duration(j.SLO.TTFT), TPOT: time.Duration(j.SLO.TPOT), E2E: time.Duration(j.SLO.E2E)}
	return l
}

// MarshalJSON writes every setting, durations as text.
func (l Load) MarshalJSON() ([]byte, error) { return json.Marshal(toJSON(l)) }

// UnmarshalJSON reads what MarshalJSON writes, strictly: an unknown key is an error. Keys
// the text leaves out keep the value l had.
func (l *Load) UnmarshalJSON(b []byte) error {
	j := toJSON(*l)
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&j); err != nil {
		return err
	}
	*l = j.load()
	return nil
}

// Encode writes l as indented JSON.
func Encode(w io.Writer, l Load) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(l)
}

// Decode reads one Load from r (named name in errors) over base: keys the text leaves out keep
// base's values. It refuses unknown keys, trailing data, a missing or unknown mode or API, and
// a level given for another mode than the one chosen.
func Decode(r io.Reader, name string, base Load) (Load, error) {
	l := base
	d := json.NewDecoder(r)
	if err := d.Decode(&l); err != nil {
		return Load{}, fmt.Errorf("load config %s: %s", name, jsonMessage(err))
	}
	if d.More() {
		return Load{}, fmt.Errorf("load config %s: more than one JSON value: give one object", name)
	}
	if err := l.Check(); err != nil {
		return Load{}, fmt.Errorf("load config %s: %w", name, err)
	}
	return l, nil
}

// jsonMessage is err without encoding/json's "json: " prefix and Go type names a user
// cannot act on.
func jsonMessage(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if key := jsonKey(te.Field); key != "" {
			return fmt.Sprintf("key %q: a JSON %s cannot be a %s", key, te.Value, kindName(te.Type.Kind().String()))
		}
		return fmt.Sprintf("a JSON %s: want an object of load settings (docs/load.md)", te.Value)
	}
	if errors.Is(err, io.EOF) {
		return "empty: give a JSON object of load settings (docs/load.md)"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// jsonKey drops the Go names of embedded structs from a field path ("plain.Intensity.users").
func jsonKey(field string) string {
	var keys []string
	for _, k := range strings.Split(field, ".") {
		if k != "" && k != "plain" && !(k[0] >= 'A' && k[0] <= 'Z') {
			keys = append(keys, k)
		}
	}
	return strings.Join(keys, ".")
}

func kindName(kind string) string {
	switch {
	case strings.HasPrefix(kind, "int"):
		return "whole number"
	case strings.HasPrefix(kind, "float"):
		return "number"
	}
	return kind
}

// Check refuses what no load can mean: an unknown mode or API, a level given for another
// mode, and a zero or negative level, measured window, timeout, token count, worker count or
// burstiness (a zero warm-up, cool-down, think time, grace or in-flight cap means none).
func (l Load) Check() error {
	var errs []error
	if err := l.Intensity.Check(); err != nil {
		errs = append(errs, err)
	}
	if !l.API.Valid() {
		errs = append(errs, fmt.Errorf("api %q: want %s or %s", l.API, APICompletions, APIChat))
	}
	for _, x := range []struct {
		key string
		v   float64
	}{{"run_time", float64(l.RunTime)}, {"timeout", float64(l.Timeout)}, {"stall_timeout", float64(l.StallTimeout)},
		{"max_tokens", float64(l.MaxTokens)}, {"workers", float64(l.WorkerCount)}, {"burstiness", l.Burstiness}} {
		if !(x.v > 0) {
			errs = append(errs, fmt.Errorf("%s must be above 0", x.key))
		}
	}
	for _, x := range []struct {
		key string
		v   float64
	}{{"warmup", float64(l.Warmup)}, {"cooldown", float64(l.Cooldown)}, {"think_time", float64(l.ThinkTime)},
		{"grace", float64(l.Grace)}, {"max_inflight", float64(l.MaxInflight)}, {"spawn_rate", l.SpawnRate},
		{"max_requests", float64(l.MaxRequests)}, {"vocab_size", float64(l.VocabSize)}, {"start_ramp", float64(l.StartRamp)}} {
		if x.v < 0 {
			errs = append(errs, fmt.Errorf("%s is negative", x.key))
		}
	}
	return errors.Join(errs...)
}

// Check refuses a missing or unknown mode, a level given for another mode, and a level that
// is not above 0.
func (i Intensity) Check() error {
	if !i.Mode.Valid() {
		return fmt.Errorf("mode %q: want %s, %s or %s", i.Mode, ModeUsers, ModeConcurrency, ModeRate)
	}
	levels := []struct {
		mode Mode
		set  bool
	}{{ModeUsers, i.Users != 0}, {ModeConcurrency, i.Concurrency != 0}, {ModeRate, i.Rate != 0}}
	for _, x := range levels {
		if x.set && x.mode != i.Mode {
			return fmt.Errorf("%s is given with mode %s: give the level of the chosen mode only", x.mode, i.Mode)
		}
	}
	if !(i.Level() > 0) {
		return fmt.Errorf("%s must be above 0", i.Mode)
	}
	return nil
}
