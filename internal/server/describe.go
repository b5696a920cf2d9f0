package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Description is what a running server says about itself, engine by engine: llama.cpp's
// /props and /v1/models (meta), vLLM's and SGLang's /v1/models (max_model_len). Fields a server
// does not report stay empty; nothing is guessed.
type Description struct {
	Version   string            // llama.cpp's build_info ("b1234-abcdef"); vLLM's comes from /version
	Effective map[string]string // settings the server reports (total_slots, n_ctx_per_slot, max_model_len, …)
	VocabSize int               // from /v1/models meta.n_vocab (llama.cpp); 0 when not reported
	Slots     int               // llama.cpp's total_slots; 0 when not reported
}

// Describe asks the server at base for its settings. Endpoints that are missing or answer
// something else are skipped.
func Describe(ctx context.Context, client *http.Client, base string) Description {
	d := Description{Effective: map[string]string{}}
	var props llamaProps
	if getJSON(ctx, client, base+"/props", &props) == nil {
		d.fromProps(props)
	}
	var models modelList
	if getJSON(ctx, client, base+"/v1/models", &models) == nil && len(models.Data) > 0 {
		d.fromModel(models.Data[0])
	}
	return d
}

// llamaProps is the part of llama-server's /props llmscale records.
type llamaProps struct {
	BuildInfo  string `json:"build_info"`
	TotalSlots int    `json:"total_slots"`
	ModelPath  string `json:"model_path"`
	Defaults   struct {
		NCtx int `json:"n_ctx"`
	} `json:"default_generation_settings"`
	EndpointSlots *bool `json:"endpoint_slots"`
}

type modelList struct {
	Data []modelEntry `json:"data"`
}

// modelEntry is one model of /v1/models: vLLM adds max_model_len and root, llama.cpp meta.
type modelEntry struct {
	ID          string `json:"id"`
	Root        string `json:"root"`
	MaxModelLen int    `json:"max_model_len"`
	Meta        *struct {
		NVocab    int   `json:"n_vocab"`
		NCtxTrain int   `json:"n_ctx_train"`
		NParams   int64 `json:"n_params"`
	} `json:"meta"`
}

func (d *Description) fromProps(p llamaProps) {
	d.Version, d.Slots = p.BuildInfo, p.TotalSlots
	putInt(d.Effective, "total_slots", p.TotalSlots)
	putInt(d.Effective, "n_ctx_per_slot", p.Defaults.NCtx)
	if p.ModelPath != "" {
		d.Effective["model_path"] = p.ModelPath
	}
	if p.EndpointSlots != nil {
		d.Effective["endpoint_slots"] = strconv.FormatBool(*p.EndpointSlots)
	}
}

func (d *Description) fromModel(m modelEntry) {
	putInt(d.Effective, "max_model_len", m.MaxModelLen)
	if m.Root != "" {
		d.Effective["model_root"] = m.Root
	}
	if m.Meta != nil {
		d.VocabSize = m.Meta.NVocab
		putInt(d.Effective, "n_vocab", m.Meta.NVocab)
		putInt(d.Effective, "n_ctx_train", m.Meta.NCtxTrain)
		if m.Meta.NParams > 0 {
			d.Effective["n_params"] = strconv.FormatInt(m.Meta.NParams, 10)
		}
	}
}

func putInt(m map[string]string, k string, v int) {
	if v > 0 {
		m[k] = strconv.Itoa(v)
	}
}

// maxDescribeBody bounds what is read of a description endpoint.
const maxDescribeBody = 1 << 20

func getJSON(ctx context.Context, client *http.Client, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d", url, resp.StatusCode)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, maxDescribeBody)).Decode(v)
}

// ResetPromptCache empties a server's prompt cache between experiments the way its engine
// allows, and says what it did, for experiment.json. With slots > 0 (llama.cpp) every slot is
// erased (POST /slots/N?action=erase); llama.cpp's host-RAM prompt cache (--cache-ram) has no
// endpoint and is said to remain. Otherwise it calls vLLM's POST /reset_prefix_cache (which
// vLLM serves only with VLLM_SERVER_DEV_MODE=1). An error means the cache could not be reset.
func ResetPromptCache(ctx context.Context, client *http.Client, base string, slots int) (string, error) {
	if slots > 0 {
		for i := range slots {
			if err := post(ctx, client, fmt.Sprintf("%s/slots/%d?action=erase", base, i)); err != nil {
				return "", fmt.Errorf("erase llama.cpp slot %d of %d: %w", i, slots, err)
			}
		}
		return fmt.Sprintf("slots erased (%d); llama.cpp's host-RAM prompt cache (--cache-ram) has no endpoint to clear it "+
			"(start the server with --cache-ram 0 to have none)", slots), nil
	}
	if err := post(ctx, client, base+"/reset_prefix_cache"); err != nil {
		return "", err
	}
	return "reset (POST /reset_prefix_cache)", nil
}

// ErrNoEndpoint is returned when a server answers 404 to a reset.
var ErrNoEndpoint = errors.New("the server has no such endpoint")

func post(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader("{}"))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return fmt.Errorf("POST %s: HTTP 404: %w", url, ErrNoEndpoint)
	case resp.StatusCode >= 300:
		return fmt.Errorf("POST %s: HTTP %d: %s", url, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return nil
}
