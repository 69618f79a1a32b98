package flow

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/apigo/apigo/policy"
	"github.com/apigo/apigo/policy/exchange"
)

// targetClient sends requests for one TargetEndpoint, modelled on
// httputil.ReverseProxy: an injectable transport, a fresh outgoing request
// built from the flow's request message, one place where transport errors
// become Apigee faults.
type targetClient struct {
	transport    http.RoundTripper
	own          *http.Transport // closed by close; nil when injected
	ioTimeout    time.Duration
	successCodes codeSet
	mapURL       []URLMap
}

// Endpoint property defaults (reference 6.7).
const (
	defaultConnectTimeout   = 3000 * time.Millisecond
	defaultIOTimeout        = 55000 * time.Millisecond
	defaultKeepAliveTimeout = 60000 * time.Millisecond
)

func newTargetClient(props map[string]string, opts *Options) (*targetClient, error) {
	connect, err := millis(props, "connect.timeout.millis", defaultConnectTimeout)
	if err != nil {
		return nil, err
	}
	ioT, err := millis(props, "io.timeout.millis", defaultIOTimeout)
	if err != nil {
		return nil, err
	}
	keep, err := millis(props, "keepalive.timeout.millis", defaultKeepAliveTimeout)
	if err != nil {
		return nil, err
	}
	codes := defaultSuccessCodes
	if s, ok := props["success.codes"]; ok {
		if codes, err = parseCodes(s); err != nil {
			return nil, err
		}
	}
	c := &targetClient{ioTimeout: ioT, successCodes: codes, mapURL: opts.MapURL}
	if opts.Transport != nil {
		c.transport = opts.Transport
		return c, nil
	}
	d := &net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}
	c.own = &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       keep,
		TLSHandshakeTimeout:   connect,
		ResponseHeaderTimeout: ioT,
		ExpectContinueTimeout: time.Second,
	}
	c.transport = c.own
	return c, nil
}

func (c *targetClient) close() {
	if c.own != nil {
		c.own.CloseIdleConnections()
	}
}

func millis(props map[string]string, name string, def time.Duration) (time.Duration, error) {
	s, ok := props[name]
	if !ok || s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("property %s: %q is not a number of milliseconds", name, s)
	}
	return time.Duration(n) * time.Millisecond, nil
}

// codeSet holds success codes as classes (1..5 for 1XX..5XX) and codes.
type codeSet struct {
	classes [10]bool
	codes   map[int]bool
}

var defaultSuccessCodes = codeSet{classes: [10]bool{1: true, 2: true, 3: true}}

// parseCodes parses success.codes such as "1XX,2XX,3XX,404".
func parseCodes(s string) (codeSet, error) {
	var cs codeSet
	cs.codes = map[int]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.ToUpper(strings.TrimSpace(part))
		if part == "" {
			continue
		}
		if len(part) == 3 && part[1:] == "XX" && part[0] >= '1' && part[0] <= '9' {
			cs.classes[part[0]-'0'] = true
			continue
		}
		n, err := strconv.Atoi(part)
		if err != nil || n < 100 || n > 999 {
			return cs, fmt.Errorf("property success.codes: %q is not a status code or class like 2XX", part)
		}
		cs.codes[n] = true
	}
	return cs, nil
}

func (cs codeSet) has(code int) bool {
	if cs.codes[code] {
		return true
	}
	c := code / 100
	return c >= 0 && c < 10 && cs.classes[c]
}

// outgoingURL applies Apigee's path rewriting rules (reference 2.5).
func (ex *execution) outgoingURL(base string, copyRules bool) string {
	x := ex.x
	u := base
	req := x.Request()
	if copyRules {
		if boolVar(x, "target.copy.pathsuffix", true) {
			s, _ := x.GetString("proxy.pathsuffix")
			u += s
		}
		if boolVar(x, "target.copy.queryparams", true) && len(req.Query) > 0 {
			sep := "?"
			if strings.Contains(u, "?") {
				sep = "&"
			}
			u += sep + req.Query.Encode()
		}
	} else if len(req.Query) > 0 {
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		u += sep + req.Query.Encode()
	}
	return u
}

func mapURL(maps []URLMap, u string) string {
	for _, m := range maps {
		if strings.HasPrefix(u, m.From) {
			return m.To + u[len(m.From):]
		}
	}
	return u
}

func urlPath(u string) any {
	p, err := url.Parse(u)
	if err != nil || p.Path == "" {
		return nil
	}
	return p.Path
}

// call sends the current request message to base (after path rewriting)
// and makes the reply the response message. t is nil for a URL route.
func (ex *execution) call(t *targetEndpoint, base string, copyRules bool) *policy.Fault {
	x := ex.x
	c := ex.e.urlClient
	if t != nil {
		c = t.client
	}
	target := mapURL(c.mapURL, ex.outgoingURL(base, copyRules))
	pu, err := url.Parse(target)
	if err != nil || pu.Host == "" || (pu.Scheme != "http" && pu.Scheme != "https") {
		return &policy.Fault{Name: "InvalidTargetURL", Code: "messaging.adaptors.http.flow.ServiceUnavailable", Status: 503,
			FaultString: "The Service is temporarily unavailable", Source: "target", Cause: fmt.Errorf("bad target URL %q", target)}
	}
	req := x.Request()
	var body io.Reader
	if req.Stream != nil {
		body = req.Stream
	} else if len(req.Body) > 0 {
		body = bytes.NewReader(req.Body)
	}
	ctx, cancel := context.WithTimeout(ex.ctx, c.ioTimeout)
	defer func() {
		if cancel != nil {
			cancel()
		}
	}()
	out, err := http.NewRequestWithContext(ctx, req.Verb, pu.String(), body)
	if err != nil {
		return transportFault(err)
	}
	for k, vs := range req.Header {
		if hopHeaders[k] || k == "Host" {
			continue
		}
		out.Header[k] = vs
	}
	if req.Stream == nil {
		out.ContentLength = int64(len(req.Body))
	} else if cl := req.Header.Get("Content-Length"); cl != "" {
		out.ContentLength, _ = strconv.ParseInt(cl, 10, 64)
	}
	if h, ok := x.GetString("target.header.host"); ok && h != "" {
		out.Host = h
	}
	if _, ok := out.Header["User-Agent"]; !ok {
		out.Header["User-Agent"] = nil
	}
	x.SetSystem("target.host", pu.Hostname())
	x.SetSystem("target.port", atoiOr(pu.Port(), defaultPort(pu.Scheme)))
	x.SetSystem("target.scheme", pu.Scheme)
	x.SetSystem("target.ssl.enabled", pu.Scheme == "https")
	x.SetSystem("target.sent.start.timestamp", time.Now().UnixMilli())
	began := time.Now()
	resp, err := c.transport.RoundTrip(out)
	x.SetSystem("target.sent.end.timestamp", time.Now().UnixMilli())
	if ex.tr != nil {
		ev := Event{Kind: "target", Name: req.Verb, URL: pu.String(), DurationUS: time.Since(began).Microseconds()}
		if err != nil {
			ev.Error = err.Error()
		} else {
			ev.Status = resp.StatusCode
		}
		ex.tr.add(ev)
	}
	if err != nil {
		return transportFault(err)
	}
	x.SetSystem("target.received.start.timestamp", time.Now().UnixMilli())
	m := exchange.NewResponse()
	m.Status = resp.StatusCode
	m.Reason = strings.TrimSpace(strings.TrimPrefix(resp.Status, strconv.Itoa(resp.StatusCode)))
	m.Version = fmt.Sprintf("%d.%d", resp.ProtoMajor, resp.ProtoMinor)
	m.Header = resp.Header
	m.URL = pu.Scheme + "://" + pu.Hostname() + pu.RequestURI()
	req.URL = m.URL
	stream := t != nil && t.streamRsp
	if stream {
		m.Stream = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
		cancel = nil
	} else {
		m.Body, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return transportFault(err)
		}
	}
	x.SetSystem("target.received.end.timestamp", time.Now().UnixMilli())
	x.SetResponse(m)
	if !c.successCodes.has(m.Status) {
		return &policy.Fault{Name: "ErrorResponseCode", Code: "messaging.adaptors.http.flow.ErrorResponseCode",
			Status: m.Status, FaultString: "Received " + strconv.Itoa(m.Status) + " Response Code", Source: "target", Response: m}
	}
	return nil
}

// cancelOnClose ends the request context when a streamed body is done.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

func defaultPort(scheme string) int {
	if scheme == "https" {
		return 443
	}
	return 80
}

// transportFault turns a transport error into Apigee's fault: 504 for a
// read timeout, 503 for refused or timed-out connects, 502 otherwise.
func transportFault(err error) *policy.Fault {
	var ne net.Error
	var oe *net.OpError
	switch {
	case errors.As(err, &oe) && oe.Op == "dial":
		reason := ""
		if oe.Timeout() {
			reason = "TARGET_CONNECT_TIMEOUT"
		}
		return &policy.Fault{Name: "ServiceUnavailable", Code: "messaging.adaptors.http.flow.ServiceUnavailable", Status: 503,
			FaultString: "The Service is temporarily unavailable", Reason: reason, Source: "target", Cause: err}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return &policy.Fault{Name: "GatewayTimeout", Code: "messaging.adaptors.http.flow.GatewayTimeout", Status: 504,
			FaultString: "Gateway Timeout", Reason: "TARGET_READ_TIMEOUT", Source: "target", Cause: err}
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return &policy.Fault{Name: "ServiceUnavailable", Code: "messaging.adaptors.http.flow.ServiceUnavailable", Status: 503,
			FaultString: "The Service is temporarily unavailable", Source: "target", Cause: err}
	}
	return &policy.Fault{Name: "UnexpectedEOFAtTarget", Code: "messaging.adaptors.http.flow.UnexpectedEOFAtTarget", Status: 502,
		FaultString: "Unexpected EOF at target", Source: "target", Cause: err}
}

// boolVar reads a boolean flow variable; code in the wild sets these as
// strings, so "false" and "true" count too.
func boolVar(x *exchange.Exchange, name string, def bool) bool {
	switch v := x.Get(name).(type) {
	case bool:
		return v
	case string:
		if b, err := strconv.ParseBool(strings.TrimSpace(v)); err == nil {
			return b
		}
	}
	return def
}
