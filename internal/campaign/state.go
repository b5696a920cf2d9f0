package campaign

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/llmscale/llmscale/internal/matrix"
	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/spec"
)

// campaignFile is results/campaign.json: the index every reader shares, and the plan's
// skipped experiments, overrides and estimate. It is rewritten atomically after every change.
type campaignFile struct {
	results.CampaignIndex
	Skipped   []matrix.Skipped `json:"skipped,omitempty"`
	Overrides []spec.Override  `json:"overrides,omitempty"`
	Estimate  matrix.Estimate  `json:"estimate"`
}

type campaignState struct {
	mu   sync.Mutex
	path string
	file campaignFile
	now  func() time.Time
}

// openState reads or starts campaign.json and records this run. A tree made by another matrix
// keeps its entries: plans may grow, and their experiment ids stay stable.
func openState(root string, l *spec.Loaded, plan matrix.Plan, opts Options) (*campaignState, error) {
	if err := os.MkdirAll(filepath.Join(root, results.RawDir), 0o755); err != nil {
		return nil, fmt.Errorf("results folder: %w", err)
	}
	s := &campaignState{path: filepath.Join(root, results.CampaignFile), now: opts.Now}
	var old campaignFile
	if err := results.ReadJSON(s.path, &old); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s is damaged (%w); move it away to start a new index", s.path, err)
	}
	if err := checkOwner(root, old, plan.Campaign, l.Hash, opts.MatrixChanged); err != nil {
		return nil, err
	}
	now := opts.Now().UTC()
	s.file = campaignFile{CampaignIndex: results.CampaignIndex{Campaign: plan.Campaign, Engine: plan.Engine,
		Model: plan.Model, MatrixFile: l.File, MatrixHash: l.Hash, MatrixYAML: string(l.Source), Tool: opts.ToolVersion,
		Host: opts.Host, StartedAt: now, Servers: len(plan.Servers), Runs: append(old.Runs, now)},
		Skipped: plan.Skipped, Overrides: l.Overrides(), Estimate: plan.Estimate}
	if !old.StartedAt.IsZero() {
		s.file.StartedAt = old.StartedAt
	}
	for _, e := range plan.Experiments {
		status, reason := results.StatusPending, ""
		if rec, err := results.ReadExperiment(results.Dir(root, e.ID)); err == nil {
			status, reason = rec.Status, rec.Reason
		}
		s.file.Experiments = append(s.file.Experiments, results.CampaignEntry{ID: e.ID, Server: e.Server.ID, Status: status, Reason: reason})
	}
	return s, s.save()
}

// ErrOtherCampaign is returned when a results folder belongs to another campaign: running
// into it would replace its index and mix the rows of both in every table.
var ErrOtherCampaign = errors.New("the results folder belongs to another campaign")

// checkOwner refuses a results folder started by another campaign (another name) or by
// another version of the matrix file (another sha256), unless matrixChanged says the edit is
// meant: plans may grow, and the ids of the experiments they keep stay stable.
func checkOwner(root string, old campaignFile, name, hash string, matrixChanged bool) error {
	switch {
	case old.Campaign == "":
		return nil // a new folder, or one without an index yet
	case old.Campaign != name:
		return fmt.Errorf("%w: %s holds campaign %q, not %q", ErrOtherCampaign, root, old.Campaign, name)
	case old.MatrixHash != hash && !matrixChanged:
		return fmt.Errorf("%w: %s holds campaign %q of matrix %s (sha256 %.12s), and this matrix is another version (sha256 %.12s)",
			ErrOtherCampaign, root, name, old.MatrixFile, old.MatrixHash, hash)
	}
	return nil
}

func (s *campaignState) set(id, status, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.file.Experiments {
		if s.file.Experiments[i].ID == id {
			s.file.Experiments[i].Status, s.file.Experiments[i].Reason = status, reason
		}
	}
	return s.save()
}

func (s *campaignState) save() error {
	s.file.UpdatedAt = s.now().UTC()
	return results.WriteJSON(s.path, s.file)
}

// isDone tells whether an experiment finished: its experiment.json says done and its request
// file is there. Anything else (running when a campaign died, failed, half written) runs again.
func isDone(dir string) bool {
	rec, err := results.ReadExperiment(dir)
	if err != nil || rec.Status != results.StatusDone {
		return false
	}
	files, _ := filepath.Glob(filepath.Join(dir, "requests*.parquet"))
	return len(files) > 0
}

// refresh re-reads every experiment's experiment.json into the index: other processes (the
// jobs of a remote executor) wrote them, and each rewrote the index with its own view.
func (s *campaignState) refresh(root string) {
	s.mu.Lock()
	for i, entry := range s.file.Experiments {
		if rec, err := results.ReadExperiment(results.Dir(root, entry.ID)); err == nil {
			s.file.Experiments[i].Status, s.file.Experiments[i].Reason = rec.Status, rec.Reason
		}
	}
	_ = s.save()
	s.mu.Unlock()
}
