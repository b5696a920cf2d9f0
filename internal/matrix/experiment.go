// Package matrix expands a matrix spec into the experiments of a campaign: every valid
// combination of factor levels, in run order, with stable ids, grouped by server
// configuration, plus every skipped combination with its reason. It is pure: no I/O.
package matrix

import (
	"regexp"
	"strings"
	"time"

	"github.com/llmscale/llmscale/internal/loadspec"
	"github.com/llmscale/llmscale/internal/spec"
	"github.com/llmscale/llmscale/internal/workload"
)

// Experiment is one combination of the matrix: one server configuration under one load.
type Experiment struct {
	ID      string       `json:"exp_id"`
	Index   int          `json:"index"`  // 1-based position in run order
	Repeat  int          `json:"repeat"` // 1-based
	Factors []Factor     `json:"factors"`
	Server  ServerConfig `json:"server"`
	Load    Load         `json:"load"`
}

// Factor is one factor's level in an experiment, as text.
type Factor struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// ServerConfig is the part of an experiment that needs its own server start.
type ServerConfig struct {
	ID        string            `json:"id"`
	Engine    string            `json:"engine"`
	Model     string            `json:"model"`
	GPUs      int               `json:"gpus"`
	TP        int               `json:"tp"`
	DP        int               `json:"dp"`
	PP        int               `json:"pp"`
	BatchSize int               `json:"batch_size,omitempty"` // --max-num-seqs; 0 = engine default
	MBT       int               `json:"mbt,omitempty"`        // --max-num-batched-tokens; 0 = engine default
	Args      []string          `json:"args,omitempty"`       // extra flags: server.extra_args, then factor levels
	Env       map[string]string `json:"env,omitempty"`
	Host      string            `json:"host,omitempty"` // engine external
	Settings  spec.Server       `json:"settings"`
}

// Load is the part of an experiment the load generator needs.
type Load struct {
	loadspec.Intensity
	PromptSet string          `json:"prompt_set"` // the level as written
	Prompts   workload.Source `json:"prompts"`
	MaxTokens int             `json:"max_tokens"`
	API       loadspec.API    `json:"api"`
	Model     string          `json:"model"`
	Tokenizer string          `json:"tokenizer,omitempty"` // the matrix's tokenizer file, resolved; "": ~4 letters a token
	Settings  spec.Load       `json:"settings"`            // with this experiment's load-factor levels applied
	SLO       spec.SLO        `json:"slo"`
	Sweep     *SweepPoint     `json:"sweep,omitempty"` // mode sweep: which point of which sweep
}

// Duration is the experiment's wall time: warm-up, measured window and cool-down.
func (l Load) Duration() time.Duration {
	return l.Settings.Warmup.D() + l.Settings.RunTime.D() + l.Settings.Cooldown.D()
}

// Skipped is a combination that is not an experiment, and why.
type Skipped struct {
	Factors []Factor `json:"factors"`
	Server  string   `json:"server"` // the server configuration id it would have had
	Reason  string   `json:"reason"`
}

// Plan is a whole campaign: what runs, in which order, and what does not.
type Plan struct {
	Campaign     string         `json:"campaign"`
	Engine       string         `json:"engine"`
	Model        string         `json:"model"`
	Experiments  []Experiment   `json:"experiments"`
	Servers      []ServerConfig `json:"servers"` // distinct, in run order
	Skipped      []Skipped      `json:"skipped"`
	Combinations int            `json:"combinations"` // every combination tried, repeats included
	Estimate     Estimate       `json:"estimate"`
}

// Estimate is how long the campaign should take.
type Estimate struct {
	Wall     time.Duration `json:"wall_ns"`
	GPUHours float64       `json:"gpu_hours"`
}

// ExperimentsOf returns the plan's experiments on one server configuration, in order.
func (p Plan) ExperimentsOf(serverID string) []Experiment {
	var out []Experiment
	for _, e := range p.Experiments {
		if e.Server.ID == serverID {
			out = append(out, e)
		}
	}
	return out
}

var unsafeID = regexp.MustCompile(`[^A-Za-z0-9.-]+`)

// Slug makes text safe for ids and folder names: letters, digits, '.', '-'.
func Slug(s string) string {
	return strings.Trim(unsafeID.ReplaceAllString(s, "-"), "-.")
}
