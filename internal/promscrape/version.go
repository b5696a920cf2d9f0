package promscrape

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Version asks a vLLM-compatible server for its version: GET baseURL/version, which vLLM
// answers with {"version": "0.x.y"}. baseURL is the server's root (http://host:port), without
// /v1. Servers without the endpoint give an error; the caller records the version as unknown.
func Version(ctx context.Context, client *http.Client, baseURL string) (string, error) {
	url := strings.TrimSuffix(baseURL, "/") + "/version"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", fmt.Errorf("get %s: %w", url, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("get %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", fmt.Errorf("get %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("get %s: unexpected status %s", url, resp.Status)
	}
	var v struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return "", fmt.Errorf("get %s: %w", url, err)
	}
	if v.Version == "" {
		return "", fmt.Errorf("get %s: %w", url, errors.New("no version in the answer"))
	}
	return v.Version, nil
}
