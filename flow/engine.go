package flow

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apigo/apigo/policy"
	"github.com/apigo/apigo/policy/exchange"
)

// Engine serves every deployed proxy. It is immutable after Build and safe
// for concurrent use.
type Engine struct {
	opts      Options
	proxies   []*proxy
	endpoints []*proxyEndpoint // longest base path first
	elements  []Element        // what coverage tracks
	ownStore  bool             // the engine made its store and closes it

	sharedFlows map[string]*sharedFlow
	hooks       map[string]*flowHook // by hook point
}

// Deployed describes what the engine serves, one line per ProxyEndpoint.
func (e *Engine) Deployed() []string {
	var out []string
	for _, p := range e.proxies {
		for _, pe := range p.endpoints {
			out = append(out, fmt.Sprintf("%s (revision %s) endpoint %s at %s", p.name, p.revision, pe.name, pe.basePath))
		}
	}
	return out
}

// Close releases idle target connections and stops what policies run in
// the background (an optional Close method on a policy).
func (e *Engine) Close() {
	for _, p := range e.proxies {
		for _, pol := range p.policies {
			if c, ok := pol.(interface{ Close() }); ok {
				c.Close()
			}
		}
		for _, c := range p.conns {
			c.Close()
		}
	}
	for _, sf := range e.sharedFlows {
		for _, pol := range sf.policies {
			if c, ok := pol.(interface{ Close() }); ok {
				c.Close()
			}
		}
	}
	if e.ownStore {
		_ = e.opts.Store.Close()
	}
}

// match finds the ProxyEndpoint whose base path is the longest prefix of
// path on a segment boundary.
func (e *Engine) match(path string) *proxyEndpoint {
	for _, pe := range e.endpoints {
		bp := pe.basePath
		if bp == "/" {
			return pe
		}
		if strings.HasPrefix(path, bp) && (len(path) == len(bp) || path[len(bp)] == '/') {
			return pe
		}
	}
	return nil
}

var (
	idPrefix  = newIDPrefix()
	idCounter atomic.Uint64
)

func newIDPrefix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func nextMessageID() string {
	return idPrefix + "-" + strconv.FormatUint(idCounter.Add(1), 10)
}

// ServeHTTP runs one request through the matching proxy.
func (e *Engine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	pe := e.match(r.URL.Path)
	if pe == nil {
		f := &policy.Fault{Name: "ApplicationNotFound", Code: "messaging.adaptors.http.flow.ApplicationNotFound", Status: 404,
			FaultString: fmt.Sprintf("Unable to identify proxy for host: %s and url: %s", "default", r.URL.Path)}
		writeMessage(w, faultResponse(f))
		e.logf(r, 404, start, "-")
		return
	}
	x := e.newExchange(pe, r)
	ex := e.newExecution(pe, x, r.Context(), w)
	if e.opts.Trace != nil {
		ex.trace(r)
	}
	status := ex.run()
	e.logf(r, status, start, pe.proxy.name)
	if ex.tr != nil {
		e.opts.Trace(ex.tr.finish(x))
	}
}

// ServeExchange serves one request like ServeHTTP and returns the finished
// exchange (nil when no proxy matched) and, when traced is true, its trace.
// `apigo test` uses it to check variables and show what happened.
func (e *Engine) ServeExchange(w http.ResponseWriter, r *http.Request, traced bool) (*exchange.Exchange, *Trace) {
	pe := e.match(r.URL.Path)
	if pe == nil {
		e.ServeHTTP(w, r)
		return nil, nil
	}
	x := e.newExchange(pe, r)
	ex := e.newExecution(pe, x, r.Context(), w)
	if traced {
		ex.trace(r)
	}
	ex.run()
	if ex.tr == nil {
		return x, nil
	}
	return x, ex.tr.finish(x)
}

func (e *Engine) logf(r *http.Request, status int, start time.Time, proxy string) {
	if e.opts.Log == nil {
		return
	}
	e.opts.Log(fmt.Sprintf("%s %s %d %s %s", r.Method, r.URL.RequestURI(), status, time.Since(start).Round(time.Microsecond), proxy))
}

// newExchange fills the flow variables known at the start of a request.
func (e *Engine) newExchange(pe *proxyEndpoint, r *http.Request) *exchange.Exchange {
	x := exchange.New()
	req := x.Request()
	req.Verb = r.Method
	req.Path = r.URL.Path
	req.Query = exchange.ParseParams(r.URL.RawQuery)
	// Policies edit the request message; the inbound request stays as it came.
	req.Header = r.Header.Clone()
	req.Version = fmt.Sprintf("%d.%d", r.ProtoMajor, r.ProtoMinor)
	if r.Body != nil && r.Body != http.NoBody {
		req.Stream = r.Body
		if !pe.streamRequest {
			_ = req.Materialize()
		}
	}
	x.SetResponse(exchange.NewResponse())
	suffix := strings.TrimPrefix(r.URL.Path, pe.basePath)
	if pe.basePath == "/" {
		suffix = r.URL.Path
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host, port, _ := net.SplitHostPort(r.RemoteAddr)
	x.SetSystem("proxy.basepath", pe.basePath)
	x.SetSystem("proxy.pathsuffix", suffix)
	x.SetSystem("proxy.name", pe.name)
	x.SetSystem("proxy.url", scheme+"://"+r.Host+r.URL.RequestURI())
	x.SetSystem("proxy.client.ip", host)
	x.SetSystem("apiproxy.name", pe.proxy.name)
	x.SetSystem("apiproxy.revision", pe.proxy.revision)
	x.SetSystem("apiproxy.basepath", pe.basePath)
	x.SetSystem("environment.name", e.opts.Env)
	x.SetSystem("organization.name", e.opts.Org)
	x.SetSystem("messageid", nextMessageID())
	x.SetSystem("client.ip", host)
	x.SetSystem("client.host", host)
	x.SetSystem("client.port", atoiOr(port, 0))
	x.SetSystem("client.scheme", scheme)
	x.SetSystem("client.ssl.enabled", r.TLS != nil)
	x.SetSystem("client.received.start.timestamp", time.Now().UnixMilli())
	if pe.proxy.propertySets != nil {
		x.SetPropertySets(pe.proxy.propertySets)
	}
	for k, v := range e.opts.Variables {
		x.SetSystem(k, v)
	}
	return x
}

func atoiOr(s string, def int) int {
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	return def
}

// writeMessage writes a response message to the client.
func writeMessage(w http.ResponseWriter, m *exchange.Message) int {
	h := w.Header()
	for k, vs := range m.Header {
		if hopHeaders[k] || k == "Content-Length" {
			continue
		}
		h[k] = vs
	}
	status := m.Status
	if status < 100 || status > 999 {
		status = http.StatusInternalServerError
	}
	if m.Stream != nil {
		if cl := m.Header.Get("Content-Length"); cl != "" {
			h.Set("Content-Length", cl)
		}
		w.WriteHeader(status)
		bp := copyBufPool.Get().(*[]byte)
		_, _ = io.CopyBuffer(w, m.Stream, *bp)
		copyBufPool.Put(bp)
		_ = m.Stream.Close()
		m.Stream = nil
		return status
	}
	if status != http.StatusNoContent && status != http.StatusNotModified && status >= 200 {
		h.Set("Content-Length", strconv.Itoa(len(m.Body)))
	}
	w.WriteHeader(status)
	if len(m.Body) > 0 {
		_, _ = w.Write(m.Body)
	}
	return status
}

// copyBufPool holds the buffers streamed bodies are copied through, so a
// passthrough does not allocate 32 KiB per response (what
// httputil.ReverseProxy does without a BufferPool).
var copyBufPool = sync.Pool{New: func() any { b := make([]byte, 32*1024); return &b }}

// hopHeaders are not forwarded (RFC 9110 7.6.1), as httputil.ReverseProxy.
var hopHeaders = map[string]bool{
	"Connection": true, "Proxy-Connection": true, "Keep-Alive": true, "Proxy-Authenticate": true,
	"Proxy-Authorization": true, "Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
}

// failing is a policy that always faults (an unsupported or unbuildable one).
type failing struct{ fault *policy.Fault }

func (f failing) Execute(context.Context, *exchange.Exchange) error {
	c := *f.fault
	return &c
}

// newExecution starts an execution; its context carries the execution as
// the engine's services (local dispatch, shared flows) for policies.
func (e *Engine) newExecution(pe *proxyEndpoint, x *exchange.Exchange, ctx context.Context, w http.ResponseWriter) *execution {
	ex := &execution{e: e, pe: pe, x: x, w: w}
	ex.ctx = policy.WithEngine(ctx, ex)
	return ex
}
