package promscrape

import (
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
)

func TestVersion(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, body string
		status     int
		want, err  string
	}{
		{"vLLM", `{"version":"0.11.2"}`, http.StatusOK, "0.11.2", ""},
		{"no endpoint", "Not Found", http.StatusNotFound, "", "404"},
		{"not JSON", "<html>", http.StatusOK, "", "invalid character"},
		{"no version field", `{"v":"1"}`, http.StatusOK, "", "no version"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				client, url := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path != "/version" {
						http.NotFound(w, r)
						return
					}
					w.WriteHeader(c.status)
					w.Write([]byte(c.body))
				}))
				got, err := Version(t.Context(), client, url+"/")
				if c.err == "" && (err != nil || got != c.want) {
					t.Fatalf("Version = %q, %v; want %q", got, err, c.want)
				}
				if c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
					t.Fatalf("Version = %q, %v; want an error mentioning %q", got, err, c.err)
				}
			})
		})
	}
}
