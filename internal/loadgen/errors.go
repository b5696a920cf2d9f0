package loadgen

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"

	"github.com/llmscale/llmscale/internal/results"
	"github.com/llmscale/llmscale/internal/sse"
)

// Causes of a request's cancellation, read back with context.Cause.
var (
	errTimeout      = errors.New("request timeout")
	errStall        = errors.New("stream stalled")
	errRunOver      = errors.New("still running at the end of the run plus its grace period")
	errCooldownOver = errors.New("still running when the cool-down ended (outside every window)")
	errInterrupted  = errors.New("still running when the grace period after Ctrl-C ran out")
	errDrain        = errors.New("the body went on after [DONE]")
)

// ErrAllFailed is returned by Run, with the summary, when every request of the run failed.
var ErrAllFailed = errors.New("every request failed")

// classify names the kind of a request's failure.
func classify(ctx context.Context, err error) (kind, msg string) {
	msg = err.Error()
	if ctx.Err() != nil {
		switch cause := context.Cause(ctx); {
		case errors.Is(cause, errTimeout):
			return results.ErrorTimeout, cause.Error()
		case errors.Is(cause, errStall):
			return results.ErrorStall, cause.Error()
		case errors.Is(cause, errRunOver), errors.Is(cause, errCooldownOver), errors.Is(cause, errInterrupted):
			return results.ErrorCancelled, cause.Error()
		}
		return results.ErrorCancelled, msg
	}
	if lim := clientLimit(err); lim != "" {
		return results.ErrorClient, "the client ran out of " + lim + ": " + msg
	}
	if isTLS(err) {
		return results.ErrorTLS, msg
	}
	var dnsErr *net.DNSError
	var opErr *net.OpError
	if errors.As(err, &dnsErr) || (errors.As(err, &opErr) && opErr.Op == "dial") {
		return results.ErrorConnect, msg
	}
	if errors.Is(err, sse.ErrTooLong) || strings.Contains(msg, "malformed HTTP") {
		return results.ErrorBadStream, msg
	}
	return results.ErrorStreamBroken, msg
}

// classify is classify for this exchange: a request timeout that passed before the request
// was written (the client still connecting or writing it) is a local timeout, the client's
// own failure: the server never received the request, so its deadline measured the client.
func (x *exchange) classify(ctx context.Context, err error) (kind, msg string) {
	kind, msg = classify(ctx, err)
	if kind != results.ErrorTimeout || x.wrote.Load() {
		return kind, msg
	}
	x.r.noteClientLimit(LimitSendTime)
	return results.ErrorClient, fmt.Sprintf("the client ran out of %s: the request timeout (%v) passed before the request "+
		"was written (still connecting or writing), so it never reached the server", LimitSendTime, x.r.cfg.Timeout)
}

func isTLS(err error) bool {
	var (
		verify   *tls.CertificateVerificationError
		header   tls.RecordHeaderError
		alert    tls.AlertError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
	)
	return errors.As(err, &verify) || errors.As(err, &header) || errors.As(err, &alert) ||
		errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &invalid) ||
		strings.Contains(err.Error(), "tls: ") || strings.Contains(err.Error(), "HTTP response to HTTPS client")
}

// clientLimit reports whether a failure says the client ran out of something of its own:
// file descriptors, local ports or kernel buffers. The error may have crossed a boundary that
// kept only its text (the epoll client's), so the kernel's messages count too.
func clientLimit(err error) string {
	msg := err.Error()
	switch {
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE), strings.Contains(msg, "too many open files"):
		return LimitFiles
	case errors.Is(err, syscall.EADDRNOTAVAIL), strings.Contains(msg, "cannot assign requested address"):
		return LimitPorts
	case errors.Is(err, syscall.ENOBUFS), strings.Contains(msg, "no buffer space available"):
		return LimitBuffers
	}
	return ""
}

// Client resources that can run out, as clientLimit names them.
const (
	LimitFiles   = "file descriptors"
	LimitPorts   = "local ports"
	LimitBuffers = "kernel buffers"
	// LimitSendTime: the request's own timeout passed before the client had written it.
	LimitSendTime = "time to send requests"
)

// maxErrorBody is how much of an error response's body is read for its message.
const maxErrorBody = 8 << 10

// httpError reads the message of an error response.
func httpError(resp *http.Response) string {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	return httpErrorMessage(resp.StatusCode, body)
}

// httpErrorMessage is the message of an error response: the OpenAI error object, FastAPI's
// detail, or the start of the body.
func httpErrorMessage(status int, body []byte) string {
	var doc struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
		Detail  json.RawMessage `json:"detail"`
	}
	msg := ""
	if json.Unmarshal(body, &doc) == nil {
		var obj struct {
			Message string `json:"message"`
		}
		var text string
		switch {
		case json.Unmarshal(doc.Error, &obj) == nil && obj.Message != "":
			msg = obj.Message
		case json.Unmarshal(doc.Error, &text) == nil && text != "":
			msg = text
		case doc.Message != "":
			msg = doc.Message
		case len(doc.Detail) > 0:
			msg = string(doc.Detail)
		}
	}
	if msg == "" {
		msg = strings.Join(strings.Fields(string(body)), " ")
	}
	return fmt.Sprintf("HTTP %d: %s", status, truncate(msg, 300))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
