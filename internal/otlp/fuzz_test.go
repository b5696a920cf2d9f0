package otlp

import (
	"testing"
)

// FuzzDecode: any body, in either encoding, decodes to an error or to rows with a request id;
// never a panic.
func FuzzDecode(f *testing.F) {
	f.Add(true, fixture(f, "vllm_export.pb"))
	f.Add(false, fixture(f, "vllm_export.json"))
	f.Add(false, []byte(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"gen_ai.request.id","value":{"intValue":"7"}},{"key":"gen_ai.latency.e2e","value":{"doubleValue":1e300}}]}]}]}]}`))
	f.Fuzz(func(t *testing.T, proto bool, body []byte) {
		ct := contentJSON
		if proto {
			ct = contentProto
		}
		er, err := decode(ct, body)
		if err != nil {
			return
		}
		rows, _ := Spans(er.Traces())
		for _, r := range rows {
			if r.RequestID == "" {
				t.Fatalf("row without request id: %+v", r)
			}
		}
	})
}
