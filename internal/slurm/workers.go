package slurm

import (
	"strconv"

	"github.com/llmscale/llmscale/internal/campaign"
)

// Workers runs the n load workers of an experiment inside the current job as the n tasks of
// one srun on node (the job's first node, where the server answers on 127.0.0.1; "" lets
// Slurm choose). Each task takes its index from SLURM_PROCID. The step overlaps the job's
// other work and may put several tasks on one CPU, so it never waits for resources the
// server holds.
func Workers(node string) campaign.WorkerLauncher {
	return func(n int, argv []string) [][]string {
		cmd := []string{"srun", "--ntasks=" + strconv.Itoa(n), "--ntasks-per-node=" + strconv.Itoa(n), "--nodes=1", "--overlap", "--overcommit",
			"--cpus-per-task=1", "--kill-on-bad-exit=0", "--job-name=llmscale-load", "--export=ALL"}
		if node != "" {
			cmd = append(cmd, "--nodelist="+node)
		}
		cmd = append(cmd, argv...)
		return [][]string{append(cmd, "--worker-env", "SLURM_PROCID")}
	}
}
