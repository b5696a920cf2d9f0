package sim

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseRequest feeds arbitrary bodies to the request parser: it must never panic, and it
// returns either a 4xx error in vLLM's shape or a request that fits the context.
//
//	go test ./internal/sim -run '^$' -fuzz FuzzParseRequest -fuzztime 60s
func FuzzParseRequest(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "requests", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds in testdata/requests: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
		f.Add(b, true)
	}
	f.Fuzz(func(t *testing.T, body []byte, chat bool) {
		kind := apiCompletions
		if chat {
			kind = apiChat
		}
		const maxLen = 4096
		req, err := parseRequest(bytes.NewReader(body), kind, DefaultModel, maxLen)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) || ae.Status < 400 || ae.Status > 499 || len(ae.body(chat)) == 0 {
				t.Fatalf("error %v is not a 4xx vLLM error", err)
			}
			return
		}
		if req.promptTokens < 1 || req.maxTokens < 1 || req.promptTokens+req.maxTokens > maxLen {
			t.Fatalf("accepted a request that does not fit: %+v", req)
		}
	})
}
