package httptarget

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"syscall"
)

// Kind classifies why a target call got no usable response.
type Kind int

const (
	// Other is an unexpected EOF, a reset connection or a protocol error
	// after the connection was made.
	Other Kind = iota
	// ConnectRefused: the connection was refused, the host unreachable or
	// its name unresolvable.
	ConnectRefused
	// ConnectTimeout: no connection within connect.timeout.millis.
	ConnectTimeout
	// ReadTimeout: no data from the target within io.timeout.millis (or the
	// caller's context deadline passed).
	ReadTimeout
	// WriteTimeout: the request body could not be sent within
	// io.timeout.millis.
	WriteTimeout
	// NoActiveTargets: every server of the LoadBalancer is out of rotation
	// or disabled.
	NoActiveTargets
	// BadURL: the outgoing URL is not an absolute http(s) URL.
	BadURL
	// TLS: the TLS handshake failed (untrusted or mismatched certificate,
	// no common protocol or cipher, client certificate refused).
	TLS
	// Canceled: the caller's context was canceled (the client went away).
	// Not a target failure: it never counts toward MaxFailures.
	Canceled
)

var kindNames = [...]string{"Other", "ConnectRefused", "ConnectTimeout", "ReadTimeout", "WriteTimeout",
	"NoActiveTargets", "BadURL", "TLS", "Canceled"}

func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(?)"
}

// Error is a failed target call. Err is the underlying transport error, if
// any.
type Error struct {
	Kind Kind
	Err  error
}

func (e *Error) Error() string {
	if e.Err == nil {
		return "target: " + e.Kind.String()
	}
	return "target: " + e.Kind.String() + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// ioTimeout is the cancel cause the io.timeout.millis watchdog sets.
type ioTimeout struct{ writing bool }

func (t *ioTimeout) Error() string {
	if t.writing {
		return "io.timeout.millis passed while sending the request"
	}
	return "io.timeout.millis passed while waiting for the response"
}

// classify turns a transport error into an *Error. parent is the caller's
// context, ctx the attempt's (whose cause may be an io timeout).
func classify(err error, parent, ctx context.Context) *Error {
	var to *ioTimeout
	if errors.As(context.Cause(ctx), &to) {
		if to.writing {
			return &Error{Kind: WriteTimeout, Err: to}
		}
		return &Error{Kind: ReadTimeout, Err: to}
	}
	switch parent.Err() {
	case context.DeadlineExceeded:
		return &Error{Kind: ReadTimeout, Err: err}
	case context.Canceled:
		return &Error{Kind: Canceled, Err: err}
	}
	return &Error{Kind: classifyNet(err), Err: err}
}

func classifyNet(err error) Kind {
	var oe *net.OpError
	var dns *net.DNSError
	var ne net.Error
	switch {
	case isTLSError(err):
		return TLS
	case errors.As(err, &oe) && oe.Op == "dial":
		if oe.Timeout() {
			return ConnectTimeout
		}
		return ConnectRefused
	case errors.As(err, &dns):
		return ConnectRefused
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return ConnectRefused
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return ReadTimeout
	}
	return Other
}

func isTLSError(err error) bool {
	var rh tls.RecordHeaderError
	var ve *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	var ae tls.AlertError
	var cn *commonNameError
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "remote error" {
		return true // an alert from the server, e.g. a refused client certificate
	}
	return errors.As(err, &rh) || errors.As(err, &ve) || errors.As(err, &ua) || errors.As(err, &he) ||
		errors.As(err, &ci) || errors.As(err, &ae) || errors.As(err, &cn)
}
