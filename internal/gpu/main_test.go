package gpu

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// fakeSMIEnv makes the test binary behave as nvidia-smi (see fakeSMI): tests run real child
// processes that print the real captures of testdata/nvidia-smi.
const fakeSMIEnv = "LLMSCALE_FAKE_NVIDIA_SMI"

func TestMain(m *testing.M) {
	if mode := os.Getenv(fakeSMIEnv); mode != "" {
		os.Exit(fakeSMI(mode, os.Args[1:], os.Stdout, os.Stderr))
	}
	goleak.VerifyTestMain(m)
}

// fakeSMITool is an SMI that runs this test binary as a fake nvidia-smi in the given mode:
// "h100x4" (the captured machine), "nodevices", "nodriver", "nogpm" (dmon refuses GPM),
// "crash" (-lms prints two samples, then fails).
func fakeSMITool(t *testing.T, mode string) SMI {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return SMI{Path: exe, Env: append(os.Environ(), fakeSMIEnv+"="+mode), Timeout: 20 * time.Second}
}

func fakeSMI(mode string, args []string, stdout, stderr io.Writer) int {
	switch mode {
	case "nodevices":
		fmt.Fprintln(stdout, "No devices were found")
		return 6
	case "nodriver":
		fmt.Fprintln(stdout, "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "+
			"Make sure that the latest NVIDIA driver is installed and running.")
		return 9
	}
	joined := strings.Join(args, " ")
	switch {
	case len(args) == 0:
		return cat(stdout, "summary-h100x4.txt")
	case joined == "--version":
		return cat(stdout, "version-580.txt")
	case joined == "--help-query-gpu":
		return cat(stdout, "help-query-gpu-580.txt")
	case joined == "topo -m":
		return cat(stdout, "topo-m-h100x4.txt")
	case args[0] == "dmon":
		return fakeDmon(mode, args, stdout, stderr)
	case strings.HasPrefix(args[0], "--query-gpu="):
		return fakeQuery(mode, args, stdout, stderr)
	}
	fmt.Fprintf(stderr, "fake nvidia-smi: unexpected arguments %q\n", args)
	return 2
}

func cat(w io.Writer, name string) int {
	data, err := os.ReadFile("testdata/nvidia-smi/" + name)
	if err != nil {
		return 3
	}
	w.Write(data)
	return 0
}

func flagValue(args []string, name string) string {
	if i := slices.Index(args, name); i >= 0 && i+1 < len(args) {
		return args[i+1]
	}
	return ""
}

// fakeQuery answers --query-gpu from the captured busy sample of DefaultQueryFields.
func fakeQuery(mode string, args []string, stdout, stderr io.Writer) int {
	fields := strings.Split(strings.TrimPrefix(args[0], "--query-gpu="), ",")
	rows := capturedRows()
	ms, _ := strconv.Atoi(flagValue(args, "-lms"))
	only := flagValue(args, "-i")
	for n := 0; n < 600; n++ {
		for _, row := range rows {
			if only != "" && !slices.Contains(strings.Split(only, ","), row["index"]) {
				continue
			}
			vals := make([]string, len(fields))
			for i, f := range fields {
				vals[i] = fakeValue(row, f)
			}
			fmt.Fprintln(stdout, strings.Join(vals, ", "))
		}
		if ms == 0 {
			return 0
		}
		if mode == "crash" && n == 1 {
			fmt.Fprintln(stderr, "Unable to determine the device handle for GPU0000:00:07.0: Unknown Error")
			return 15
		}
		time.Sleep(time.Duration(ms) * time.Millisecond)
	}
	return 0
}

func fakeValue(row map[string]string, field string) string {
	if v, ok := row[field]; ok {
		return v
	}
	switch field {
	case "driver_version":
		return "580.159.04"
	case "pci.bus_id":
		i, _ := strconv.Atoi(row["index"])
		return fmt.Sprintf("00000000:00:%02X.0", 6+i)
	}
	return "[N/A]"
}

func capturedRows() []map[string]string {
	data, _ := os.ReadFile("testdata/nvidia-smi/query-default-busy-h100x4.csv")
	fields := DefaultQueryFields()
	var rows []map[string]string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		vals, err := splitQuery(fields, line)
		if err != nil {
			continue
		}
		row := map[string]string{}
		for i, f := range fields {
			row[f] = vals[i]
		}
		rows = append(rows, row)
	}
	return rows
}

// fakeDmon prints a captured dmon run, one sample of every GPU each 50 ms (whatever -d says).
func fakeDmon(mode string, args []string, stdout, stderr io.Writer) int {
	name := "dmon-pucvmet-csv-busy-h100x4.txt"
	if slices.Contains(args, "--gpm-metrics") {
		if mode == "nogpm" {
			fmt.Fprintln(stderr, "Failed to start GPM sampling: Not Supported")
			return 1
		}
		name = "dmon-pucv-gpm-csv-busy-h100x4.txt"
	}
	data, err := os.ReadFile("testdata/nvidia-smi/" + name)
	if err != nil {
		return 3
	}
	count, _ := strconv.Atoi(flagValue(args, "-c"))
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	fmt.Fprintln(stdout, lines[0])
	fmt.Fprintln(stdout, lines[1])
	body := lines[2:]
	for n := 0; n < 600 && (count == 0 || n < count); n++ {
		for _, l := range body[(n*4)%len(body):][:4] {
			fmt.Fprintln(stdout, l)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return 0
}
