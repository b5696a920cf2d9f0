package cli

import (
	"runtime"
	"strings"
	"testing"

	"github.com/llmscale/llmscale/internal/spec"
)

// FuzzDotenv feeds arbitrary .env files through what llmscale does with one: parse it, turn
// it into matrix settings, load a matrix with them. Invariants: no panic, and either an error
// or a matrix that validates; the work stays bounded (inputs are capped at 16 KB, and one
// input may allocate at most 256 MB, far above what a real one needs).
//
//	go test ./internal/cli -run '^$' -fuzz FuzzDotenv -fuzztime 60s
func FuzzDotenv(f *testing.F) {
	for _, seed := range []string{"USERS=4\n", "USERS=4\nLLMSCALE_RATE=2\n", "RUN_TIME=0s\n", "USERS=\n",
		"export VLLM_MODEL='m'\n# c\nTP=1,2\n", "MAX_TOKENS=abc\n", "LLMSCALE_WARMUP=0s\nLLMSCALE_COOLDOWN=0\n",
		"PROMPTS_FILE=random:8:4\nLLMSCALE_GPUS=1,2,4\nTP=1\nDP=1,2,4\n", "A=\"unterminated\n", "=x\n"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 16<<10 {
			t.Skip()
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		env, err := parseDotenv(data)
		if err == nil {
			overlay := spec.EnvOverlay(func(k string) string { return env[k] }, ".env", t.TempDir())
			l, err := spec.Parse([]byte("factors: {prompts: ['random:8']}\n"), "m.yaml", t.TempDir(), overlay)
			if err == nil && len(l.Validate()) > 0 {
				t.Fatalf("Parse accepted a matrix with problems: %v", l.Validate())
			}
			if err != nil && !strings.HasPrefix(err.Error(), "matrix m.yaml") {
				t.Fatalf("error does not name the matrix: %v", err)
			}
		}
		runtime.ReadMemStats(&after)
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 256<<20 {
			t.Fatalf("one .env of %d bytes allocated %d MB", len(data), grew>>20)
		}
	})
}
