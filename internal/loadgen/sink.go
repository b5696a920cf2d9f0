package loadgen

import (
	"path/filepath"
	"sync"

	"github.com/llmscale/llmscale/internal/results"
)

// Sink receives the records of a run in batches, from one goroutine; Close is called once
// at the end, after the last Write, even when the run was interrupted.
type Sink interface {
	Write(rows []results.Request) error
	Close() error
}

// ParquetSink writes requests.parquet (requests-<worker>.parquet when several workers share
// the load) in a folder. The file appears, whole, only when Close succeeds.
type ParquetSink struct {
	w    *results.ParquetWriter[results.Request]
	path string
}

// NewParquetSink starts the request file of a worker in dir.
func NewParquetSink(dir string, worker, workers int) (*ParquetSink, error) {
	path := filepath.Join(dir, results.RequestsFile(worker, workers))
	w, err := results.NewRequestWriter(path)
	if err != nil {
		return nil, err
	}
	return &ParquetSink{w: w, path: path}, nil
}

// Path is the file the sink writes.
func (s *ParquetSink) Path() string { return s.path }

// Write implements Sink.
func (s *ParquetSink) Write(rows []results.Request) error { return s.w.Write(rows) }

// Close implements Sink.
func (s *ParquetSink) Close() error { return s.w.Close() }

// Abort drops the file, for a run that never started.
func (s *ParquetSink) Abort() { s.w.Abort() }

// MemorySink keeps the records in memory, for tests and for callers that summarise themselves.
type MemorySink struct {
	mu     sync.Mutex
	rows   []results.Request
	closed bool
}

// Write implements Sink.
func (m *MemorySink) Write(rows []results.Request) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rows = append(m.rows, rows...)
	return nil
}

// Close implements Sink.
func (m *MemorySink) Close() error {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	return nil
}

// Rows returns the records written so far, in the order they ended.
func (m *MemorySink) Rows() []results.Request {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]results.Request(nil), m.rows...)
}

// Closed reports whether Close was called.
func (m *MemorySink) Closed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.closed
}
