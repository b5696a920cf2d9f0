//go:build !unix

package results

// processAlive cannot ask here, so every process counts as alive: only age removes a file.
func processAlive(int) bool { return true }
