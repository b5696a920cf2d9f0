package results

import "time"

// CampaignIndex is the part of results/campaign.json that every reader of a tree shares: the
// plan's identity and every planned experiment's state. Package campaign writes it (with the
// plan's own types beside it); readers decode only this, so older and newer files read.
// experiment.json files are the authority on each experiment; this is their index.
type CampaignIndex struct {
	Campaign    string            `json:"campaign"`
	Engine      string            `json:"engine"`
	Model       string            `json:"model"`
	MatrixFile  string            `json:"matrix_file"`
	MatrixHash  string            `json:"matrix_sha256"`
	MatrixYAML  string            `json:"matrix_yaml"`
	Tool        string            `json:"tool_version"`
	Host        string            `json:"host"`
	StartedAt   time.Time         `json:"started_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
	Servers     int               `json:"server_configurations"`
	Experiments []CampaignEntry   `json:"experiments"`
	Runs        []time.Time       `json:"runs"` // every start of llmscale run on this tree
	Extra       map[string]string `json:"extra,omitempty"`
}

// CampaignEntry is one planned experiment's state in the index.
type CampaignEntry struct {
	ID     string `json:"exp_id"`
	Server string `json:"server"`
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}
