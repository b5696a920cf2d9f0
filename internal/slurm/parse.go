package slurm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrParse is wrapped by every error about output of Slurm's commands that cannot be read.
var ErrParse = errors.New("cannot read Slurm's output")

// queueDoc is the part of `squeue --json` this package reads. Slurm's JSON changed across
// versions (22.05: job_state "RUNNING" and exit_code a wait status; 23.02 and later:
// job_state ["RUNNING"] and exit_code an object), so those fields are read by hand.
type queueDoc struct {
	Jobs   []queueJob `json:"jobs"`
	Errors []struct {
		Error       string `json:"error"`
		Description string `json:"description"`
	} `json:"errors"`
}

type queueJob struct {
	ID       json.RawMessage `json:"job_id"`
	Name     string          `json:"name"`
	State    json.RawMessage `json:"job_state"`
	Reason   string          `json:"state_reason"`
	ExitCode json.RawMessage `json:"exit_code"`
	Nodes    string          `json:"nodes"`
}

// ParseQueueJSON reads the jobs of `squeue --json`.
func ParseQueueJSON(data []byte) ([]Job, error) {
	var doc queueDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: squeue --json: %w", ErrParse, err)
	}
	if len(doc.Jobs) == 0 && len(doc.Errors) > 0 {
		e := doc.Errors[0]
		return nil, fmt.Errorf("%w: squeue --json reports an error: %s %s", ErrParse, e.Error, e.Description)
	}
	jobs := make([]Job, 0, len(doc.Jobs))
	for i, q := range doc.Jobs {
		j, err := q.job()
		if err != nil {
			return nil, fmt.Errorf("%w: squeue --json: job %d: %w", ErrParse, i, err)
		}
		jobs = append(jobs, j)
	}
	return jobs, nil
}

func (q queueJob) job() (Job, error) {
	id, err := jsonNumberOrString(q.ID)
	if err != nil || id == "" {
		return Job{}, fmt.Errorf("job_id %s: want a number", q.ID)
	}
	state, err := jsonState(q.State)
	if err != nil {
		return Job{}, err
	}
	j := Job{ID: id, Name: q.Name, State: state, Reason: reason(q.Reason), Nodes: q.Nodes, ExitCode: -1}
	j.ExitCode, j.Signal = jsonExit(q.ExitCode)
	return j, nil
}

// jsonNumberOrString reads 12, "12" or {"number": 12}.
func jsonNumberOrString(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		if _, err := strconv.ParseUint(n.String(), 10, 64); err != nil {
			return "", fmt.Errorf("%q is not a job id", n)
		}
		return n.String(), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if _, err := strconv.ParseUint(s, 10, 64); err != nil {
			return "", fmt.Errorf("%q is not a job id", s)
		}
		return s, nil
	}
	var obj struct {
		Number json.Number `json:"number"`
	}
	if err := json.Unmarshal(raw, &obj); err == nil && obj.Number != "" {
		return jsonNumberOrString(json.RawMessage(obj.Number))
	}
	return "", fmt.Errorf("%s: want a number", raw)
}

// jsonState reads "RUNNING" or ["RUNNING", "COMPLETING"] (the first base state).
func jsonState(raw json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return normState(s), nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err == nil {
		for _, x := range list {
			if PhaseOf(x) != PhaseUnknown {
				return normState(x), nil
			}
		}
		if len(list) > 0 {
			return normState(list[0]), nil
		}
		return "", nil
	}
	return "", fmt.Errorf("job_state %s: want a string or a list of strings", raw)
}

// jsonExit reads 22.05's wait status (768 is exit code 3; 15 is signal 15) or the later
// object {"return_code": {"number": 3}, "signal": {"id": {"number": 15}}}.
func jsonExit(raw json.RawMessage) (code, signal int) {
	var n int64
	if err := json.Unmarshal(raw, &n); err == nil {
		if n < 0 || n > 0xffff {
			return -1, 0
		}
		if sig := int(n & 0x7f); sig != 0 {
			return int(n>>8) & 0xff, sig
		}
		return int(n>>8) & 0xff, 0
	}
	var obj struct {
		ReturnCode json.RawMessage `json:"return_code"`
		Signal     struct {
			ID json.RawMessage `json:"id"`
		} `json:"signal"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return -1, 0
	}
	code, signal = -1, 0
	if s, err := jsonNumberOrString(obj.ReturnCode); err == nil {
		code, _ = strconv.Atoi(s)
	}
	if s, err := jsonNumberOrString(obj.Signal.ID); err == nil {
		signal, _ = strconv.Atoi(s)
	}
	return code, signal
}

func reason(r string) string {
	if r == "None" || r == "(null)" {
		return ""
	}
	return r
}

// QueueFormat is the squeue -o format ParseQueueText reads: id, state, reason, nodes.
const QueueFormat = "%i|%T|%r|%N"

// ParseQueueText reads `squeue -h -o '%i|%T|%r|%N'`, the fallback when --json is not there.
func ParseQueueText(data []byte) ([]Job, error) {
	var jobs []Job
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		f := strings.Split(line, "|")
		if len(f) < 2 {
			return nil, fmt.Errorf("%w: squeue line %d %q: want id|state|reason|nodes", ErrParse, n+1, line)
		}
		if _, err := strconv.ParseUint(strings.Split(f[0], "_")[0], 10, 64); err != nil {
			return nil, fmt.Errorf("%w: squeue line %d: job id %q", ErrParse, n+1, f[0])
		}
		j := Job{ID: f[0], State: normState(f[1]), ExitCode: -1}
		if len(f) > 2 {
			j.Reason = reason(f[2])
		}
		if len(f) > 3 {
			j.Nodes = f[3]
		}
		jobs = append(jobs, j)
	}
	return jobs, nil
}

// ParseScontrol reads `scontrol show job ID`: JobState=…, Reason=…, ExitCode=code:signal.
func ParseScontrol(data []byte) (Job, error) {
	fields := map[string]string{}
	for _, word := range strings.Fields(string(data)) {
		if k, v, ok := strings.Cut(word, "="); ok {
			if _, seen := fields[k]; !seen {
				fields[k] = v
			}
		}
	}
	id, state := fields["JobId"], fields["JobState"]
	if id == "" || state == "" {
		return Job{}, fmt.Errorf("%w: scontrol show job: no JobId or JobState", ErrParse)
	}
	j := Job{ID: id, Name: fields["JobName"], State: normState(state), Reason: reason(fields["Reason"]),
		Nodes: fields["NodeList"], ExitCode: -1}
	if ec, ok := fields["ExitCode"]; ok {
		code, sig, _ := strings.Cut(ec, ":")
		if c, err := strconv.Atoi(code); err == nil {
			j.ExitCode = c
		}
		if s, err := strconv.Atoi(sig); err == nil {
			j.Signal = s
		}
	}
	return j, nil
}

// ParseSacct reads `sacct -n -P -X -j ID -o JobID,State,ExitCode,Reason`.
func ParseSacct(data []byte) (Job, error) {
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(strings.TrimSpace(line), "|")
		if len(f) < 3 || f[0] == "" {
			continue
		}
		j := Job{ID: f[0], State: normState(f[1]), ExitCode: -1}
		code, sig, _ := strings.Cut(f[2], ":")
		if c, err := strconv.Atoi(code); err == nil {
			j.ExitCode = c
		}
		if s, err := strconv.Atoi(sig); err == nil {
			j.Signal = s
		}
		if len(f) > 3 {
			j.Reason = reason(f[3])
		}
		return j, nil
	}
	return Job{}, fmt.Errorf("%w: sacct printed no job", ErrParse)
}

// ParseSubmit reads the output of `sbatch --parsable`: "ID" or "ID;cluster".
func ParseSubmit(data []byte) (string, error) {
	line := strings.TrimSpace(string(data))
	if i := strings.LastIndexByte(line, '\n'); i >= 0 {
		line = strings.TrimSpace(line[i+1:]) // warnings may come first
	}
	id, _, _ := strings.Cut(line, ";")
	if _, err := strconv.ParseUint(id, 10, 64); err != nil {
		return "", fmt.Errorf("%w: sbatch --parsable printed %q, not a job id", ErrParse, line)
	}
	return id, nil
}
