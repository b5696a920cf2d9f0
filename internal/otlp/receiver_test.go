package otlp

import (
	"bytes"
	"compress/gzip"
	"context"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

var update = flag.Bool("update", false, "rewrite testdata/vllm_export.pb from vllm_export.json")

// fixture reads a recorded vLLM-shaped export: the JSON is the source; the protobuf is the
// same request as the Python exporter's http/protobuf and grpc send it.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestProtoFixtureMatchesJSON(t *testing.T) {
	er, err := decode(contentJSON, fixture(t, "vllm_export.json"))
	if err != nil {
		t.Fatal(err)
	}
	pb, err := er.MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "vllm_export.pb")
	if *update {
		if err := os.WriteFile(path, pb, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(pb, fixture(t, "vllm_export.pb")) {
		t.Fatalf("%s differs from vllm_export.json: run go test ./internal/otlp -run TestProtoFixture -update", path)
	}
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func TestHTTP(t *testing.T) {
	t.Parallel()
	pb, js := fixture(t, "vllm_export.pb"), fixture(t, "vllm_export.json")
	cases := []struct {
		name, ct, enc string
		body          []byte
		status        int
		spans         int64
	}{
		{"protobuf", contentProto, "", pb, 200, 3},
		{"json", contentJSON, "", js, 200, 3},
		{"gzip protobuf", contentProto, "gzip", gz(pb), 200, 3},
		{"json with charset", contentJSON + "; charset=utf-8", "", js, 200, 3},
		{"malformed protobuf", contentProto, "", []byte{0x0a, 0xff, 0xff, 0xff}, 400, 0},
		{"malformed json", contentJSON, "", []byte(`{"resourceSpans":[{`), 400, 0},
		{"oversized", contentJSON, "", append(js, bytes.Repeat([]byte{' '}, 1<<10)...), 400, 0},
		{"gzip bomb", contentProto, "gzip", gz(bytes.Repeat([]byte{0}, 1<<20)), 400, 0},
		{"not gzip", contentProto, "gzip", pb, 400, 0},
		{"unknown encoding", contentProto, "br", pb, 400, 0},
		{"text", "text/plain", "", js, 415, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r, err := Start(Options{MaxBody: int64(len(js) + 512)})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			req, _ := http.NewRequest(http.MethodPost, r.HTTPEndpoint(), bytes.NewReader(c.body))
			req.Header.Set("Content-Type", c.ct)
			if c.enc != "" {
				req.Header.Set("Content-Encoding", c.enc)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			st := r.Stats()
			if resp.StatusCode != c.status || st.Spans != c.spans || len(r.Take()) != int(c.spans) {
				t.Fatalf("status %d, spans %d; want %d, %d", resp.StatusCode, st.Spans, c.status, c.spans)
			}
			if wantRejected := int64(0); c.status != 200 && st.Rejected != 1 || c.status == 200 && st.Rejected != wantRejected {
				t.Errorf("rejected %d for status %d", st.Rejected, c.status)
			}
			if c.status == 200 && (st.Other != 1 || resp.Header.Get("Content-Type") != strings.Split(c.ct, ";")[0]) {
				t.Errorf("other spans %d, response type %q", st.Other, resp.Header.Get("Content-Type"))
			}
		})
	}
}

func TestHTTPOnlyPost(t *testing.T) {
	t.Parallel()
	r, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	resp, err := http.Get(r.HTTPEndpoint())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET: status %d, want 405", resp.StatusCode)
	}
}

func TestGRPC(t *testing.T) {
	t.Parallel()
	pb := fixture(t, "vllm_export.pb")
	r, err := Start(Options{MaxBody: int64(len(pb) + 512)})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	conn, err := grpc.NewClient(strings.TrimPrefix(r.GRPCEndpoint(), "http://"), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	er := ptraceotlp.NewExportRequest()
	if err := er.UnmarshalProto(pb); err != nil {
		t.Fatal(err)
	}
	if _, err := ptraceotlp.NewGRPCClient(conn).Export(context.Background(), er); err != nil {
		t.Fatalf("export: %v", err)
	}
	if st := r.Stats(); st.Spans != 3 || st.Exports != 1 || st.Other != 1 {
		t.Fatalf("stats %+v after one export of 3 request spans and 1 other", st)
	}
	// A malformed and an oversized message: InvalidArgument, counted, the server still up.
	for _, bad := range [][]byte{{0x0a, 0xff, 0xff, 0xff}, bytes.Repeat([]byte{0x0a, 0x00}, len(pb))} {
		var out []byte
		err := conn.Invoke(context.Background(), "/"+grpcService+"/"+grpcMethod, bad, &out, grpc.ForceCodec(rawCodec{}))
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("bad message: %v, want InvalidArgument", err)
		}
	}
	if _, err := ptraceotlp.NewGRPCClient(conn).Export(context.Background(), er); err != nil {
		t.Fatalf("export after bad messages: %v", err)
	}
	if st := r.Stats(); st.Rejected != 2 || st.Spans != 6 {
		t.Fatalf("stats %+v, want 2 rejected and 6 spans", st)
	}
}
