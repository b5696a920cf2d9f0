package results

import (
	"fmt"
	"slices"
	"time"
)

// Request is one row of requests.parquet: one request a load generator sent (or was due to
// send), with its timing and outcome. Offsets (*_ns) are nanoseconds from the experiment's
// start on the monotonic clock; columns marked optional are null when the event did not happen.
// docs/results.md documents every column.
type Request struct {
	ExperimentID string `parquet:"exp_id"`
	WorkerID     int32  `parquet:"worker_id"`
	Seq          int64  `parquet:"seq"`   // per worker, in the order requests were due
	Phase        string `parquet:"phase"` // warmup | measure | cooldown, by end_ns
	Target       string `parquet:"target"`
	User         int32  `parquet:"user"` // closed-loop user or concurrency slot; -1 in rate mode
	PromptIndex  int32  `parquet:"prompt_index"`
	MaxTokens    int32  `parquet:"max_tokens"` // requested

	DueNs        int64 `parquet:"due_ns"`                  // when the schedule (or the user) wanted it sent
	SentNs       int64 `parquet:"sent_ns,optional"`        // when it was handed to the HTTP client
	ConnectNs    int64 `parquet:"connect_ns,optional"`     // sent_ns until a connection was ready (a dial, or ~0 kept alive)
	FirstTokenNs int64 `parquet:"first_token_ns,optional"` // first chunk carrying output text
	DoneNs       int64 `parquet:"done_ns,optional"`        // last chunk carrying output text
	EndNs        int64 `parquet:"end_ns"`                  // when the request ended: [DONE], EOF or failure
	StartUnixNs  int64 `parquet:"start_unix_ns"`           // wall clock at sent_ns (due_ns if never sent)

	TTFTNs int64   `parquet:"ttft_ns,optional"` // first_token_ns − sent_ns
	E2ENs  int64   `parquet:"e2e_ns,optional"`  // done_ns − sent_ns
	TPOTNs int64   `parquet:"tpot_ns,optional"` // (e2e − ttft) / (output_tokens − 1), when output_tokens > 1
	ITLNs  []int64 `parquet:"itl_ns,list"`      // gaps between consecutive content chunks (chunks − 1)
	// vLLM's own client (vllm bench serve) times every chunk with a non-empty "choices" list,
	// content or not (chat's role-only first delta, an empty finish chunk): its TTFT is the first
	// such chunk and its ITL every gap between them. Both are set only where they differ from
	// ours (vllm_itl_ns is then never empty); an empty vllm_itl_ns means "as ttft_ns, itl_ns".
	VLLMTTFTNs int64   `parquet:"vllm_ttft_ns,optional"`
	VLLMITLNs  []int64 `parquet:"vllm_itl_ns,list"`

	ChunkTokens       []int32 `parquet:"chunk_tokens,list"`   // tokens in each content chunk
	ChunkTokensSource string  `parquet:"chunk_tokens_source"` // continuous_usage | one_per_chunk | counted
	Chunks            int32   `parquet:"chunks"`              // content chunks
	PromptTokens      int32   `parquet:"prompt_tokens"`
	OutputTokens      int32   `parquet:"output_tokens"`
	TokensFromUsage   bool    `parquet:"tokens_from_usage"` // false: counted by llmscale (tokens.Count)

	FinishReason string `parquet:"finish_reason"`
	HTTPStatus   int32  `parquet:"http_status"` // 0 when no response came
	ErrorKind    string `parquet:"error_kind"`  // "" for a request that succeeded
	Error        string `parquet:"error"`
	ResponseID   string `parquet:"response_id"` // the "id" of the server's chunks
}

// Phases of a load run. A request belongs to the window in which it ended.
const (
	PhaseWarmup   = "warmup"
	PhaseMeasure  = "measure"
	PhaseCooldown = "cooldown"
)

// Error kinds of failed requests (Request.ErrorKind).
const (
	ErrorConnect      = "connect"       // dial, DNS or connection refused: nothing was sent
	ErrorTLS          = "tls"           // TLS handshake or certificate
	ErrorHTTP         = "http"          // a status other than 200; http_status holds it (429 included)
	ErrorTimeout      = "timeout"       // the whole request took longer than the timeout, once written to the server
	ErrorStall        = "stall"         // no byte for the stall timeout once the stream had started
	ErrorStreamBroken = "stream_broken" // connection closed or reset before the stream ended
	ErrorNoDone       = "no_done"       // the stream ended cleanly but without data: [DONE]
	ErrorStreamError  = "stream_error"  // the server sent an error object inside the stream
	ErrorBadStream    = "bad_stream"    // not an event stream: garbage, HTML, JSON that is not a chunk
	ErrorNoOutput     = "no_output"     // the stream ended with [DONE] and no output text
	ErrorCancelled    = "cancelled"     // stopped by llmscale: Ctrl-C, or still running at run end + grace
	ErrorNotSent      = "not_sent"      // due, but the in-flight cap held it until sending stopped
	// ErrorClient: the client ran out of something of its own (file descriptors: EMFILE,
	// ENFILE; local ports: EADDRNOTAVAIL; kernel buffers: ENOBUFS; time: its request timeout
	// passed before it had written the request, a local timeout) before the server saw the
	// request. It says nothing about the server.
	ErrorClient = "client"
)

// Chunk token sources (Request.ChunkTokensSource).
const (
	ChunkTokensContinuousUsage = "continuous_usage" // exact: cumulative usage on every chunk
	ChunkTokensOnePerChunk     = "one_per_chunk"    // exact: usage's output tokens equal the chunks
	ChunkTokensCounted         = "counted"          // approximate: tokens.Count of each chunk's text
)

// OK reports whether the request succeeded.
func (r Request) OK() bool { return r.ErrorKind == "" }

// TTFT is the time to first token.
func (r Request) TTFT() time.Duration { return time.Duration(r.TTFTNs) }

// E2E is the end-to-end latency (to the last content chunk).
func (r Request) E2E() time.Duration { return time.Duration(r.E2ENs) }

// SendLag is how late the request was sent against its due time.
func (r Request) SendLag() time.Duration { return time.Duration(r.SentNs - r.DueNs) }

// RequestsFile is the name of a worker's request file in an output folder: requests.parquet
// for a single worker, requests-<worker>.parquet when several share the load.
func RequestsFile(worker, workers int) string {
	if workers <= 1 {
		return "requests.parquet"
	}
	return fmt.Sprintf("requests-%d.parquet", worker)
}

// NewRequestWriter starts writing a request file atomically.
func NewRequestWriter(path string) (*ParquetWriter[Request], error) {
	return NewParquetWriter[Request](path)
}

// ReadRequests reads one request file.
func ReadRequests(path string) ([]Request, error) { return ReadParquet[Request](path) }

// ReadRequestsDir reads every request file of an output folder (requests.parquet and
// requests-<worker>.parquet), ordered by worker and sequence number.
func ReadRequestsDir(dir string) ([]Request, error) { return readRequestFiles(dir, ReadRequests) }

// readRequestFiles reads every request file of dir with read, merged and ordered by worker
// and sequence number.
func readRequestFiles(dir string, read func(path string) ([]Request, error)) ([]Request, error) {
	paths, err := RequestFiles(dir)
	if err != nil {
		return nil, err
	}
	var all []Request
	for _, p := range paths {
		rows, err := read(p)
		if err != nil {
			return nil, err
		}
		if all == nil {
			all = rows
			continue
		}
		all = append(all, rows...)
	}
	if !slices.IsSortedFunc(all, byWorkerSeq) {
		slices.SortStableFunc(all, byWorkerSeq)
	}
	return all, nil
}

func byWorkerSeq(a, b Request) int {
	if a.WorkerID != b.WorkerID {
		return int(a.WorkerID - b.WorkerID)
	}
	return int(a.Seq - b.Seq)
}
