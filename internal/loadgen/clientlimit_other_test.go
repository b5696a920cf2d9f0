//go:build !unix

package loadgen

const emfileChildEnv = "LLMSCALE_EMFILE_CHILD"

func runEMFILEChild() {}
