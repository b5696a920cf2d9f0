package results

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/llmscale/llmscale/internal/loadspec"
)

// Files of a results tree. Every experiment has its folder under raw/.
const (
	RawDir            = "raw"
	AggDir            = "agg"
	FigsDir           = "figs"
	ServersDir        = "servers" // full server logs, one per server start
	CampaignFile      = "campaign.json"
	ExperimentFile    = "experiment.json"
	ServerMetricsFile = "server_metrics.parquet"
	GPUFile           = "gpu.parquet"
	ServerLogFile     = "server.log"
	TopologyFile      = "topology.json"
)

// Experiment states.
const (
	StatusPending = "pending"
	StatusRunning = "running"
	StatusDone    = "done"
	StatusFailed  = "failed"
)

// Experiment is experiment.json: everything needed to interpret one experiment's files
// without the matrix — its factors, the server and load actually used, provenance, and how it
// ended. Durations are in nanoseconds, times in UTC.
type Experiment struct {
	ID       string `json:"exp_id"`
	Campaign string `json:"campaign"`
	Index    int    `json:"index"`
	Repeat   int    `json:"repeat"`
	Status   string `json:"status"`
	Reason   string `json:"reason,omitempty"`   // why it failed
	LogTail  string `json:"log_tail,omitempty"` // server log's last lines when it failed
	Attempts int    `json:"attempts"`

	Factors map[string]string `json:"factors"` // every factor's level as written

	Server ServerInfo `json:"server"`
	Load   LoadInfo   `json:"load"`

	Seed        int64     `json:"seed"`
	StartedAt   time.Time `json:"started_at"`
	EndedAt     time.Time `json:"ended_at"`
	MeasureFrom time.Time `json:"measure_from"` // the measured window, wall clock
	MeasureTo   time.Time `json:"measure_to"`

	Host       string   `json:"host"`
	GPUs       []string `json:"gpus,omitempty"` // names of the GPUs used
	Tool       string   `json:"tool_version"`
	MatrixFile string   `json:"matrix_file"`
	MatrixHash string   `json:"matrix_sha256"`
	Telemetry  []string `json:"telemetry_absent,omitempty"` // sources that recorded nothing, with the reason

	// ReplicaSkew says how far apart the replicas' /metrics snapshots that open and close the
	// window were taken (several replicas only): they are taken concurrently, and a skew of a
	// sizeable part of the window would bias per-replica counter deltas.
	ReplicaSkew *ReplicaSkew `json:"replica_skew,omitempty"`
	// PromptCache says how the server's prompt cache was kept from carrying one experiment's
	// prompts into the next: "reset" (POST /reset_prefix_cache answered), "disabled per
	// request" (cache_prompt: false, llama.cpp), or why it could not be.
	PromptCache string `json:"prompt_cache,omitempty"`
	// Client is how the load generator and its machine fared; nil when the run recorded none.
	Client *ClientInfo `json:"client,omitempty"`
}

// ReplicaSkew is the spread, latest minus earliest, of the replicas' snapshot times.
type ReplicaSkew struct {
	BeforeNs int64 `json:"before_ns"`
	AfterNs  int64 `json:"after_ns"`
}

// ClientInfo is the evidence about the client's side of a run: failures on its own limits,
// and the whole machine's CPU beside the client's (null when the host was not sampled).
type ClientInfo struct {
	ClientFailures int      `json:"client_failures"` // requests that failed on the client's limits (kind "client")
	HostCPUUtil    *float64 `json:"host_cpu_util"`   // share of all CPUs busy over the run
	HostSteal      *float64 `json:"host_steal"`      // share of all CPUs' time stolen by a hypervisor
	HostContended  bool     `json:"host_contended"`
	HostSharers    []string `json:"host_sharers,omitempty"` // other processes busy on the client's cores
}

// ServerInfo is the server an experiment ran against.
type ServerInfo struct {
	ID        string   `json:"id"`
	Engine    string   `json:"engine"`
	Model     string   `json:"model"`
	GPUs      int      `json:"gpus"`
	TP        int      `json:"tp"`
	DP        int      `json:"dp"`
	PP        int      `json:"pp"`
	BatchSize int      `json:"batch_size"` // requested --max-num-seqs (0: engine default)
	MBT       int      `json:"mbt"`        // requested --max-num-batched-tokens (0: engine default)
	Commands  []string `json:"commands,omitempty"`
	Endpoints []string `json:"endpoints"`
	Version   string   `json:"version,omitempty"`
	// Effective holds settings the server reported itself (max_num_seqs, num_gpu_blocks, …).
	Effective map[string]string `json:"effective,omitempty"`
}

// LoadInfo is the load an experiment drove.
type LoadInfo struct {
	loadspec.Intensity
	Prompts    string       `json:"prompts"`
	MaxTokens  int          `json:"max_tokens"`
	API        loadspec.API `json:"api"`
	Workers    int          `json:"workers"`
	WarmupNs   int64        `json:"warmup_ns"`
	RunTimeNs  int64        `json:"run_time_ns"`
	CooldownNs int64        `json:"cooldown_ns"`
	SLOTTFTNs  int64        `json:"slo_ttft_ns,omitempty"`
	SLOTPOTNs  int64        `json:"slo_tpot_ns,omitempty"`
	SLOE2ENs   int64        `json:"slo_e2e_ns,omitempty"`
	// VocabSize bounds the token ids of random:IN prompts, and VocabSource says where it came
	// from (the matrix or the server); both empty when it was not known.
	VocabSize   int    `json:"vocab_size,omitempty"`
	VocabSource string `json:"vocab_source,omitempty"`
	// Tokenizer is the matrix's tokenizer file that counted text prompts and dataset replies,
	// and TokenizerSHA256 its digest; both empty when text was counted ~4 letters a token.
	Tokenizer       string `json:"tokenizer,omitempty"`
	TokenizerSHA256 string `json:"tokenizer_sha256,omitempty"`
	// Sweep places an experiment of mode sweep in its sweep; Concurrency or Rate above is the
	// load this point ran.
	Sweep *SweepInfo `json:"sweep,omitempty"`
}

// SweepInfo is one point of a sweep (matrix factor sweep).
type SweepInfo struct {
	ID     string `json:"id"`              // shared by the sweep's points
	Stage  string `json:"stage"`           // sync | throughput | rate
	Points int    `json:"points"`          // open-loop rates between sync and throughput
	Index  int    `json:"index,omitempty"` // rate points: 1…points
	// SyncRPS and ThroughputRPS are the request throughputs of the sweep's sync and
	// throughput points that a rate point's rate was spaced between (rate points only).
	SyncRPS       float64 `json:"sync_rps,omitempty"`
	ThroughputRPS float64 `json:"throughput_rps,omitempty"`
}

// Dir is the folder of one experiment in a results tree.
func Dir(root, expID string) string { return filepath.Join(root, RawDir, expID) }

// ReadExperiment reads an experiment's experiment.json.
func ReadExperiment(dir string) (Experiment, error) {
	var e Experiment
	err := ReadJSON(filepath.Join(dir, ExperimentFile), &e)
	return e, err
}

// WriteExperiment writes experiment.json atomically.
func WriteExperiment(dir string, e Experiment) error {
	return WriteJSON(filepath.Join(dir, ExperimentFile), e)
}

// ListExperiments returns the folders under raw/ that hold an experiment.json, sorted.
func ListExperiments(root string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(root, RawDir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no experiments in %s: %w", root, err)
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		dir := filepath.Join(root, RawDir, e.Name())
		if _, err := os.Stat(filepath.Join(dir, ExperimentFile)); e.IsDir() && err == nil {
			out = append(out, dir)
		}
	}
	return out, nil
}
