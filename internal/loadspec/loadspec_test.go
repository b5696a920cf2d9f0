package loadspec

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func full() Load {
	return Load{
		Intensity: Intensity{Mode: ModeRate, Rate: 12.5},
		Targets:   []string{"http://a:1", "https://b:2/v1"}, API: APIChat, Model: "org/m",
		SpawnRate: 0, Arrival: "gamma", Burstiness: 0.5, MaxInflight: 7, ConnectRate: 250, StartRamp: 2 * time.Second,
		PromptSet: "random:100:20", VocabSize: 32000, Tokenizer: "tok.json", MaxTokens: 64,
		IgnoreEOS: true, ContinuousUsage: true, Seed: -3,
		Warmup: 1500 * time.Millisecond, RunTime: time.Minute, Cooldown: 0, ThinkTime: 2 * time.Second,
		Timeout: 10 * time.Minute, StallTimeout: time.Minute, Grace: 0,
		MaxRequests: 500, SLO: SLO{TTFT: 500 * time.Millisecond, E2E: 3 * time.Second},
		Client: "epoll", ExperimentID: "camp_G1_R12.5", WorkerCount: 3,
		StartAt: time.Date(2026, 12, 6, 23, 0, 0, 123456789, time.UTC),
	}
}

// defaults are the settings a load takes when its JSON leaves them out.
func defaults() Load {
	return Load{API: APICompletions, Arrival: "poisson", Burstiness: 1, RunTime: time.Minute, Timeout: 10 * time.Minute,
		StallTimeout: time.Minute, Grace: 30 * time.Second, MaxTokens: 128, WorkerCount: 1, Seed: 42}
}

func TestRoundTrip(t *testing.T) {
	small := defaults()
	small.Intensity = Intensity{Mode: ModeUsers, Users: 1}
	for _, l := range []Load{full(), small} {
		var b bytes.Buffer
		if err := Encode(&b, l); err != nil {
			t.Fatal(err)
		}
		got, err := Decode(&b, "x.json", Load{})
		if err != nil {
			t.Fatalf("Decode(%s): %v", b.String(), err)
		}
		if diff := cmp.Diff(l, got); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
	}
}

func TestEncodeWritesDurationsAsText(t *testing.T) {
	var b bytes.Buffer
	if err := Encode(&b, full()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"warmup": "1.5s"`, `"run_time": "1m0s"`, `"grace": "0s"`, `"ttft": "500ms"`,
		`"mode": "rate"`, `"rate": 12.5`, `"workers": 3`, `"start_at": "2026-12-06T23:00:00.123456789Z"`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("JSON lacks %s:\n%s", want, b.String())
		}
	}
	if strings.Contains(b.String(), `"users"`) {
		t.Errorf("JSON has the level of another mode:\n%s", b.String())
	}
}

func TestDecodeKeepsBaseForMissingKeys(t *testing.T) {
	base := defaults()
	got, err := Decode(strings.NewReader(`{"mode":"users","users":4,"grace":"0s"}`), "x.json", base)
	if err != nil {
		t.Fatal(err)
	}
	want := base
	want.Intensity, want.Grace = Intensity{Mode: ModeUsers, Users: 4}, 0
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestDecodeRefuses(t *testing.T) {
	base := defaults()
	for _, tt := range []struct{ name, in, want string }{
		{"empty", ``, "empty"},
		{"not an object", `[1]`, "a JSON array: want an object"},
		{"unknown key", `{"mode":"users","users":1,"userz":2}`, `unknown field "userz"`},
		{"no mode", `{"users":3}`, `mode "": want users, concurrency or rate`},
		{"unknown mode", `{"mode":"burst"}`, `mode "burst"`},
		{"two levels", `{"mode":"rate","rate":2,"users":3}`, "users is given with mode rate"},
		{"bad duration", `{"mode":"users","users":1,"run_time":"soon"}`, `"soon" is not a duration`},
		{"number as duration", `{"mode":"users","users":1,"run_time":60}`, `key "run_time"`},
		{"string as number", `{"mode":"users","users":"8"}`, `key "users": a JSON string cannot be a whole number`},
		{"bad api", `{"mode":"users","users":1,"api":"embeddings"}`, `api "embeddings"`},
		{"two values", `{"mode":"users","users":1} {}`, "more than one JSON value"},
		{"bad slo", `{"mode":"users","users":1,"slo":{"ttft":"x"}}`, `"x" is not a duration`},
		{"zero level", `{"mode":"rate","rate":0}`, "rate must be above 0"},
		{"zero run time", `{"mode":"users","users":1,"run_time":"0s"}`, "run_time must be above 0"},
		{"zero tokens", `{"mode":"users","users":1,"max_tokens":0}`, "max_tokens must be above 0"},
		{"zero workers", `{"mode":"users","users":1,"workers":0}`, "workers must be above 0"},
		{"negative grace", `{"mode":"users","users":1,"grace":"-1s"}`, "grace is negative"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(strings.NewReader(tt.in), "x.json", base)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "x.json") {
				t.Errorf("err = %v, want one naming x.json and containing %q", err, tt.want)
			}
		})
	}
}

func TestLevel(t *testing.T) {
	for _, tt := range []struct {
		i    Intensity
		want float64
	}{
		{Intensity{Mode: ModeUsers, Users: 8}, 8},
		{Intensity{Mode: ModeConcurrency, Concurrency: 3}, 3},
		{Intensity{Mode: ModeRate, Rate: 2.5}, 2.5},
	} {
		if got := tt.i.Level(); got != tt.want {
			t.Errorf("%+v.Level() = %v, want %v", tt.i, got, tt.want)
		}
	}
}

func TestSLO(t *testing.T) {
	o := SLO{TTFT: 500 * time.Millisecond, TPOT: 50 * time.Millisecond}
	if got := o.String(); got != "ttft:500 tpot:50" {
		t.Errorf("String = %q", got)
	}
	if !o.Meets(int64(400*time.Millisecond), int64(time.Second), 0, 1) {
		t.Error("a one-token reply has no TPOT to miss")
	}
	if o.Meets(int64(400*time.Millisecond), int64(60*time.Millisecond), 0, 2) {
		t.Error("TPOT 60ms met an objective of 50ms")
	}
	if (SLO{}).Any() || !o.Any() {
		t.Error("Any is wrong")
	}
}

func FuzzDecode(f *testing.F) {
	var b bytes.Buffer
	_ = Encode(&b, full())
	f.Add(b.String())
	f.Add(`{"mode":"users","users":1}`)
	f.Add(`{"mode":"rate","rate":1e308,"slo":{}}`)
	f.Fuzz(func(t *testing.T, in string) {
		l, err := Decode(strings.NewReader(in), "f.json", defaults())
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := Encode(&out, l); err != nil {
			t.Fatalf("Encode of a decoded load: %v", err)
		}
		again, err := Decode(&out, "again.json", Load{})
		if err != nil {
			t.Fatalf("decoding what Encode wrote: %v\n%s", err, out.String())
		}
		if diff := cmp.Diff(l, again); diff != "" {
			t.Fatalf("second round trip differs (-first +second):\n%s", diff)
		}
	})
}
