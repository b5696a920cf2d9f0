//go:build !(nvml && cgo && linux)

package gpu

// nvmlBuiltIn: this binary has no NVML (the default, cgo-free build).
const nvmlBuiltIn = false

func openNVML() (nvmlLib, error) { return nil, ErrNoNVML }
