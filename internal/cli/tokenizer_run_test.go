package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/llmscale/llmscale/internal/results"
)

// wordTokenizer is a BERT-style tokenizer.json in which every word and punctuation mark of the
// test's dataset is one token, and a sequence gets [CLS] … [SEP]: lengths ~4 letters a token
// would get wrong.
const wordTokenizer = `{
	"added_tokens": [{"id": 1, "content": "[CLS]"}, {"id": 2, "content": "[SEP]"}],
	"normalizer": {"type": "BertNormalizer", "lowercase": true},
	"pre_tokenizer": {"type": "BertPreTokenizer"},
	"post_processor": {"type": "BertProcessing", "cls": ["[CLS]", 1], "sep": ["[SEP]", 2]},
	"model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2,
		"please": 3, "list": 4, "some": 5, "words": 6, "a": 7, "b": 8, ",": 9, "ok": 10, "internationalisation": 11}}}`

// tokenizerDataset has replies of 12, 7 and 5 tokens by wordTokenizer; ~4 letters a token
// would make them about 6, 3 and 6.
const tokenizerDataset = `[
 {"conversations": [{"from": "human", "value": "please list some words"}, {"from": "gpt", "value": "a a a a a a a a a a a a"}]},
 {"conversations": [{"from": "human", "value": "please list some words"}, {"from": "gpt", "value": "a,b,a,b"}]},
 {"conversations": [{"from": "human", "value": "please list some words"}, {"from": "gpt", "value": "internationalisation ok ok ok ok"}]}
]`

// TestRunWithMatrixTokenizer: a campaign whose matrix names a tokenizer asks each ShareGPT
// request for its reply's length as the tokenizer counts it — in the campaign's own load and
// in load workers, which are child processes — and records the tokenizer in experiment.json.
func TestRunWithMatrixTokenizer(t *testing.T) {
	t.Parallel()
	for _, workers := range []int{1, 2} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			t.Parallel()
			dir := runTokenizerCampaign(t, workers)
			rec, err := results.ReadExperiment(dir)
			if err != nil {
				t.Fatal(err)
			}
			if rec.Status != results.StatusDone {
				t.Fatalf("experiment %s: %s (%s)", rec.Status, rec.Reason, rec.LogTail)
			}
			l := rec.Load
			if !strings.HasSuffix(l.Tokenizer, "/tok") || len(l.TokenizerSHA256) != 64 || l.VocabSize != 12 || l.VocabSource != "tokenizer "+l.Tokenizer {
				t.Errorf("experiment.json load: tokenizer %q (sha256 %q), vocabulary %d from %q; want the matrix's tokenizer and its 12 tokens",
					l.Tokenizer, l.TokenizerSHA256, l.VocabSize, l.VocabSource)
			}
			files := []string{"requests.parquet"}
			if workers == 2 {
				files = []string{"requests-0.parquet", "requests-1.parquet"}
			}
			for _, f := range files {
				reqs, err := results.ReadParquet[results.Request](filepath.Join(dir, f))
				if err != nil || len(reqs) == 0 {
					t.Fatalf("%s: %d rows, %v", f, len(reqs), err)
				}
				for _, q := range reqs {
					if !slices.Contains([]int32{12, 7, 5}, q.MaxTokens) {
						t.Fatalf("%s: a request asked for %d tokens; the tokenizer counts the replies 12, 7 and 5", f, q.MaxTokens)
					}
				}
			}
		})
	}
}

// runTokenizerCampaign runs a one-experiment campaign on the simulator with the matrix's
// tokenizer and returns the experiment's folder.
func runTokenizerCampaign(t *testing.T, workers int) string {
	t.Helper()
	dir := t.TempDir()
	model := uniqueModel(t)
	if err := os.MkdirAll(filepath.Join(dir, "tok"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "tok", "tokenizer.json"), wordTokenizer)
	write(t, filepath.Join(dir, "conv.json"), tokenizerDataset)
	write(t, filepath.Join(dir, "m.yaml"), fmt.Sprintf(`campaign: tk
engine: sim
model: %s
tokenizer: tok
factors:
  users: [4]
  prompts: ["conv.json"]
  max_tokens: [64]
load: {run_time: 1s, warmup: 200ms, cooldown: 200ms, grace: 2s, workers: %d}
server: {startup_timeout: 20s, stop_grace: 2s, sim: {speedup: 4}}
`, model, workers))
	r := runInProcess(t, dir, "run", "-m", "m.yaml", "--results", "res", "--no-analysis")
	if r.code != ExitOK {
		t.Fatalf("exit %d; stderr:\n%s", r.code, r.stderr)
	}
	noneLeft(t, model)
	dirs, err := results.ListExperiments(filepath.Join(dir, "res"))
	if err != nil || len(dirs) != 1 {
		t.Fatalf("experiments %v, %v; want one", dirs, err)
	}
	return dirs[0]
}

// TestPlanRefusesBadTokenizer: a tokenizer the run could not use stops plan with the line.
func TestPlanRefusesBadTokenizer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "m.yaml"), "engine: sim\ntokenizer: missing/tokenizer.json\nfactors: {prompts: ['random:8']}\n")
	r := runInProcess(t, dir, "plan", "-m", "m.yaml")
	if r.code != ExitInvalidMatrix || !strings.Contains(r.stderr, "m.yaml:2:12: tokenizer:") {
		t.Errorf("exit %d, stderr:\n%s\nwant %d naming m.yaml:2:12", r.code, r.stderr, ExitInvalidMatrix)
	}
}
