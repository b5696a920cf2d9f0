package otlp

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// Content types of OTLP/HTTP.
const (
	contentProto = "application/x-protobuf"
	contentJSON  = "application/json"
)

// Handler serves POST /v1/traces with a protobuf or JSON body, plain or gzip-encoded, as the
// OTLP/HTTP specification has it: 200 with an ExportTraceServiceResponse in the request's
// encoding; 400 for a body that does not decode or is larger than the limit; 415 for another
// content type.
func (r *Receiver) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", r.serveHTTP)
	return mux
}

func (r *Receiver) serveHTTP(w http.ResponseWriter, req *http.Request) {
	ct, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type"))
	if ct != contentProto && ct != contentJSON {
		r.reject()
		http.Error(w, fmt.Sprintf("content type %q: OTLP/HTTP takes %s or %s", ct, contentProto, contentJSON), http.StatusUnsupportedMediaType)
		return
	}
	body, err := r.readBody(w, req)
	if err != nil {
		r.reject()
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	er, err := decode(ct, body)
	if err != nil {
		r.reject()
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Export(req.Context(), er)
	writeResponse(w, ct)
}

// decode parses an export request body in the given content type.
func decode(ct string, body []byte) (ptraceotlp.ExportRequest, error) {
	er := ptraceotlp.NewExportRequest()
	var err error
	if ct == contentJSON {
		err = er.UnmarshalJSON(body)
	} else {
		err = er.UnmarshalProto(body)
	}
	if err != nil {
		return er, fmt.Errorf("decode OTLP %s body: %w", ct, err)
	}
	return er, nil
}

// readBody reads the body, gunzipping it if asked, up to the size limit.
func (r *Receiver) readBody(w http.ResponseWriter, req *http.Request) ([]byte, error) {
	var src io.Reader = http.MaxBytesReader(w, req.Body, r.maxBody)
	switch enc := req.Header.Get("Content-Encoding"); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(src)
		if err != nil {
			return nil, fmt.Errorf("gzip body: %w", err)
		}
		defer zr.Close()
		src = zr
	default:
		return nil, fmt.Errorf("content encoding %q: OTLP/HTTP takes gzip or none", enc)
	}
	body, err := io.ReadAll(io.LimitReader(src, r.maxBody+1))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig) || int64(len(body)) > r.maxBody:
		return nil, fmt.Errorf("body larger than %d bytes", r.maxBody)
	case err != nil:
		return nil, fmt.Errorf("read body: %w", err)
	}
	return body, nil
}

func writeResponse(w http.ResponseWriter, ct string) {
	resp := ptraceotlp.NewExportResponse()
	var b []byte
	if ct == contentJSON {
		b, _ = resp.MarshalJSON()
	} else {
		b, _ = resp.MarshalProto()
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}
