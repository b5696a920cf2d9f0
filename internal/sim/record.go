package sim

import (
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"sync"

	"github.com/llmscale/llmscale/internal/results"
)

// Chunk kinds in a ChunkRecord.
const (
	ChunkRole    = "role"    // chat's first delta: the role, no token
	ChunkContent = "content" // one or more tokens
	ChunkUsage   = "usage"   // the usage chunk with empty choices
	ChunkDone    = "done"    // data: [DONE]
	ChunkBody    = "body"    // a whole non-streamed response
)

// ChunkRecord is when the server really wrote one chunk of a response: the truth a load
// generator's timing error is measured against. Times are wall-clock Unix nanoseconds.
type ChunkRecord struct {
	Seq           uint64 `parquet:"seq" json:"seq"`                   // request number, in arrival order from 1
	RequestID     string `parquet:"request_id" json:"request_id"`     // the response's id
	XRequestID    string `parquet:"x_request_id" json:"x_request_id"` // the client's X-Request-Id header, if any
	Chunk         int32  `parquet:"chunk" json:"chunk"`               // index within the response, from 0
	Kind          string `parquet:"kind" json:"kind"`
	Tokens        int32  `parquet:"tokens" json:"tokens"`                   // output tokens in the chunk
	ArrivalUnixNs int64  `parquet:"arrival_unix_ns" json:"arrival_unix_ns"` // request arrived
	DueUnixNs     int64  `parquet:"due_unix_ns" json:"due_unix_ns"`         // when the model (or cadence) made the chunk's oldest token ready
	WrittenUnixNs int64  `parquet:"written_unix_ns" json:"written_unix_ns"` // the write and flush returned
}

// recorder collects chunk records of all streams; streams hand over their rows when they end.
type recorder struct {
	path string
	mu   sync.Mutex
	rows []ChunkRecord
}

func (r *recorder) add(rows []ChunkRecord) {
	if r == nil || len(rows) == 0 {
		return
	}
	r.mu.Lock()
	r.rows = append(r.rows, rows...)
	r.mu.Unlock()
}

// write writes every record atomically: Parquet for a .parquet path, else JSON lines.
func (r *recorder) write() error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	rows := r.rows
	r.mu.Unlock()
	if strings.EqualFold(filepath.Ext(r.path), ".parquet") {
		return results.WriteParquet(r.path, rows)
	}
	return results.WriteAtomic(r.path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		for _, row := range rows {
			if err := enc.Encode(row); err != nil {
				return err
			}
		}
		return nil
	})
}
