package server

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
)

// engineServer answers /props and /v1/models with recorded pages (testdata/), and records
// the POSTs it gets.
type engineServer struct {
	props, models string // file names under testdata/, "" for 404
	reset         int    // status of /reset_prefix_cache
	mu            sync.Mutex
	posts         []string
}

func (s *engineServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		s.mu.Lock()
		s.posts = append(s.posts, r.URL.RequestURI())
		s.mu.Unlock()
		switch {
		case strings.HasPrefix(r.URL.Path, "/slots/") && s.props != "":
			w.Write([]byte(`{"id_slot":0,"n_erased":12}`))
		case r.URL.Path == "/reset_prefix_cache" && s.reset != 0:
			w.WriteHeader(s.reset)
		default:
			http.NotFound(w, r)
		}
		return
	}
	file := map[string]string{"/props": s.props, "/v1/models": s.models}[r.URL.Path]
	if file == "" {
		http.NotFound(w, r)
		return
	}
	data, err := os.ReadFile("testdata/" + file)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	w.Write(data)
}

func TestDescribe(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		srv       *engineServer
		version   string
		vocab     int
		slots     int
		effective map[string]string
	}{
		{"llama.cpp", &engineServer{props: "llamacpp-props.json", models: "llamacpp-models.json"}, "b150-0dbe179", 1024, 2,
			map[string]string{"total_slots": "2", "n_vocab": "1024", "endpoint_slots": "true"}},
		{"vllm", &engineServer{models: "vllm-models.json"}, "", 0, 0, map[string]string{"max_model_len": "8192"}},
		{"nothing", &engineServer{}, "", 0, 0, map[string]string{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ts := httptest.NewServer(c.srv)
			defer ts.Close()
			d := Describe(t.Context(), ts.Client(), ts.URL)
			if !strings.HasPrefix(d.Version, c.version) || d.VocabSize != c.vocab || d.Slots != c.slots {
				t.Errorf("got version %q, vocab %d, slots %d; want %q…, %d, %d", d.Version, d.VocabSize, d.Slots, c.version, c.vocab, c.slots)
			}
			for k, v := range c.effective {
				if d.Effective[k] != v {
					t.Errorf("effective[%s]: got %q, want %q (all: %v)", k, d.Effective[k], v, d.Effective)
				}
			}
			if len(c.effective) == 0 && len(d.Effective) != 0 {
				t.Errorf("effective: got %v from a server that reports nothing", d.Effective)
			}
		})
	}
}

func TestResetPromptCache(t *testing.T) {
	t.Parallel()
	llama := &engineServer{props: "llamacpp-props.json"}
	ts := httptest.NewServer(llama)
	defer ts.Close()
	what, err := ResetPromptCache(t.Context(), ts.Client(), ts.URL, 3)
	if err != nil || !strings.HasPrefix(what, "slots erased (3)") {
		t.Fatalf("llama.cpp: got %q, %v", what, err)
	}
	if got := strings.Join(llama.posts, " "); got != "/slots/0?action=erase /slots/1?action=erase /slots/2?action=erase" {
		t.Errorf("llama.cpp: posts %s", got)
	}

	vllm := httptest.NewServer(&engineServer{reset: http.StatusOK})
	defer vllm.Close()
	if what, err := ResetPromptCache(t.Context(), vllm.Client(), vllm.URL, 0); err != nil || !strings.Contains(what, "reset_prefix_cache") {
		t.Errorf("vllm: got %q, %v", what, err)
	}

	none := httptest.NewServer(&engineServer{})
	defer none.Close()
	if _, err := ResetPromptCache(t.Context(), none.Client(), none.URL, 0); !errors.Is(err, ErrNoEndpoint) {
		t.Errorf("no endpoint: got %v, want ErrNoEndpoint", err)
	}
	broken := httptest.NewServer(&engineServer{reset: http.StatusInternalServerError})
	defer broken.Close()
	if _, err := ResetPromptCache(t.Context(), broken.Client(), broken.URL, 0); err == nil || !strings.Contains(err.Error(), "500") {
		t.Errorf("HTTP 500: got %v", err)
	}
}
