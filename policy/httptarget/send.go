package httptarget

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apigo/apigo/policy/exchange"
)

// Info describes where a Send went. The caller sets target.* and
// loadbalancing.* flow variables from it.
type Info struct {
	URL                                            string   // the URL of the last attempt, after --map-url
	Server                                         string   // loadbalancing.targetserver: the TargetServer that answered (or last tried)
	FailedServers                                  []string // loadbalancing.failedservers, in the order they failed
	IsFallback                                     bool     // loadbalancing.isfallback
	Host                                           string   // target.host
	Port                                           int      // target.port
	Scheme                                         string   // target.scheme
	SentStart, SentEnd, ReceivedStart, ReceivedEnd time.Time
}

type hostKey struct{}

// WithHost makes Send use host as the Host header of the outgoing request
// (target.header.host); by default it is the target URL's host.
func WithHost(ctx context.Context, host string) context.Context {
	return context.WithValue(ctx, hostKey{}, host)
}

// hopHeaders are not forwarded (RFC 9110 7.6.1), as httputil.ReverseProxy.
var hopHeaders = map[string]bool{
	"Connection": true, "Proxy-Connection": true, "Keep-Alive": true, "Proxy-Authenticate": true,
	"Proxy-Authorization": true, "Te": true, "Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
	"Host": true,
}

// Send sends req (verb, headers minus hop-by-hop ones, Body or Stream) and
// returns the response message: its body read fully, or left in Stream
// when stream is true (closing it ends the call). A response whose status is
// not a success code is still a response, not an error: check IsSuccess.
//
// For a URL connection, u is the full URL. For a load-balanced one, u is the
// tail (rendered Path, path suffix, "?query") appended to the picked
// server's scheme://host:port; on a failure (no response, or a
// ServerUnhealthyResponse code) with RetryEnabled and at least two servers,
// the request is retried on the next eligible server, each server at most
// once per request. A streamed request body (req.Stream) is never retried.
// The error is always an *Error.
func (conn *Connection) Send(ctx context.Context, req *exchange.Message, u string, stream bool) (*exchange.Message, *Info, error) {
	info := &Info{}
	if conn.lb == nil {
		rsp, err := conn.attempt(ctx, conn.transport, req, u, stream, info, nil)
		if err != nil {
			return nil, info, err
		}
		return rsp, info, nil
	}
	return conn.sendBalanced(ctx, req, u, stream, info)
}

func (conn *Connection) sendBalanced(ctx context.Context, req *exchange.Message, tail string, stream bool, info *Info) (*exchange.Message, *Info, error) {
	lb := conn.lb
	var tried uint64
	var s *Server
	for {
		if s == nil {
			s = lb.pick(tried)
		} else {
			s = lb.next(s, tried)
		}
		if s == nil {
			return nil, info, &Error{Kind: NoActiveTargets, Err: fmt.Errorf("no target server of the LoadBalancer is in rotation")}
		}
		tried |= 1 << s.index
		info.Server, info.IsFallback = s.name, s.isFallback
		rsp, err := conn.attempt(ctx, s.transport, req, s.base+tail, stream, info, s)
		why := ""
		switch {
		case err != nil && (err.Kind == Canceled || err.Kind == BadURL):
			lb.release(s)
			return nil, info, err
		case err != nil:
			why = err.Error()
		case lb.unhealthy[rsp.Status]:
			why = "ServerUnhealthyResponse " + strconv.Itoa(rsp.Status)
		default:
			lb.succeeded(s, "it answered a request")
			return rsp, info, nil
		}
		lb.failed(s, why)
		info.FailedServers = append(info.FailedServers, s.name)
		if !conn.retryable(req, tried, ctx) {
			if err != nil {
				return nil, info, err
			}
			return rsp, info, nil
		}
		if rsp != nil && rsp.Stream != nil {
			rsp.Stream.Close()
		}
	}
}

// retryable reports whether another server may be tried.
func (conn *Connection) retryable(req *exchange.Message, tried uint64, ctx context.Context) bool {
	lb := conn.lb
	if !lb.retry || req.Stream != nil || ctx.Err() != nil {
		return false
	}
	n := 0
	for _, s := range lb.servers {
		if s.enabled {
			n++
		}
	}
	return n >= 2 && lb.eligible(tried, new(int64)) != 0
}

// release undoes a half-open claim when an attempt ended without telling
// anything about the server.
func (lb *loadBalancer) release(s *Server) {
	if s.down.Load() {
		s.probing.Store(false)
	}
}

// attempt makes one HTTP exchange with full URL u. s is the server (nil for
// a URL connection), whose in-flight count covers the exchange.
func (conn *Connection) attempt(parent context.Context, rt http.RoundTripper, req *exchange.Message, u string,
	stream bool, info *Info, s *Server) (*exchange.Message, *Error) {
	u = mapURL(conn.mapURL, u)
	pu, err := url.Parse(u)
	if err != nil || pu.Host == "" || (pu.Scheme != "http" && pu.Scheme != "https") {
		return nil, &Error{Kind: BadURL, Err: fmt.Errorf("bad target URL %q", u)}
	}
	info.URL, info.Scheme, info.Host = u, pu.Scheme, pu.Hostname()
	info.Port = defaultPort(pu)
	ctx, cancel := context.WithCancelCause(parent)
	wd := newWatchdog(conn.props.io, cancel)
	out, err := conn.outgoing(ctx, req, pu, wd)
	if err != nil {
		wd.stop()
		cancel(nil)
		return nil, &Error{Kind: BadURL, Err: err}
	}
	if s != nil {
		s.inFlight.Add(1)
	}
	done := func() {
		wd.stop()
		cancel(nil)
		if s != nil {
			s.inFlight.Add(-1)
		}
	}
	info.SentStart = time.Now()
	resp, err := rt.RoundTrip(out)
	info.SentEnd = time.Now()
	info.ReceivedStart = info.SentEnd
	if err != nil {
		e := classify(err, parent, ctx)
		done()
		return nil, e
	}
	wd.reading()
	m := responseMessage(resp, pu)
	body := &watchedBody{ReadCloser: resp.Body, wd: wd, done: done}
	if stream {
		m.Stream = body
		info.ReceivedEnd = time.Now()
		return m, nil
	}
	m.Body, err = io.ReadAll(body)
	body.Close()
	info.ReceivedEnd = time.Now()
	if err != nil {
		return nil, classify(err, parent, ctx)
	}
	return m, nil
}

func defaultPort(pu *url.URL) int {
	if p, err := strconv.Atoi(pu.Port()); err == nil {
		return p
	}
	if pu.Scheme == "https" {
		return 443
	}
	return 80
}

// outgoing builds the net/http request from the request message.
func (conn *Connection) outgoing(ctx context.Context, req *exchange.Message, pu *url.URL, wd *watchdog) (*http.Request, error) {
	var body io.Reader
	switch {
	case req.Stream != nil:
		body = &watchedReader{r: req.Stream, wd: wd}
	case len(req.Body) > 0:
		body = &watchedReader{r: bytes.NewReader(req.Body), wd: wd}
	default:
		wd.reading()
	}
	verb := req.Verb
	if verb == "" {
		verb = http.MethodGet
	}
	out, err := http.NewRequestWithContext(ctx, verb, pu.String(), body)
	if err != nil {
		return nil, err
	}
	for k, vs := range req.Header {
		if !hopHeaders[k] {
			out.Header[k] = vs
		}
	}
	if req.Stream == nil {
		out.ContentLength = int64(len(req.Body))
		if len(req.Body) > 0 {
			b := req.Body
			out.GetBody = func() (io.ReadCloser, error) {
				return io.NopCloser(&watchedReader{r: bytes.NewReader(b), wd: wd}), nil
			}
		}
	} else if cl := req.Header.Get("Content-Length"); cl != "" {
		out.ContentLength, _ = strconv.ParseInt(cl, 10, 64)
	}
	if h, ok := ctx.Value(hostKey{}).(string); ok && h != "" {
		out.Host = h
	}
	if _, ok := out.Header["User-Agent"]; !ok {
		out.Header["User-Agent"] = nil // no Go default User-Agent
	}
	return out, nil
}

func responseMessage(resp *http.Response, pu *url.URL) *exchange.Message {
	m := exchange.NewResponse()
	m.Status = resp.StatusCode
	m.Reason = strings.TrimSpace(strings.TrimPrefix(resp.Status, strconv.Itoa(resp.StatusCode)))
	m.Version = strconv.Itoa(resp.ProtoMajor) + "." + strconv.Itoa(resp.ProtoMinor)
	m.Header = resp.Header
	m.URL = pu.Scheme + "://" + pu.Host + pu.RequestURI()
	return m
}

// watchdog enforces io.timeout.millis as Apigee means it: no data read or
// written for that long. Each read of the request or response body resets
// it; when it fires, the attempt's context is canceled with an *ioTimeout
// cause telling whether the request was still being sent.
type watchdog struct {
	d       time.Duration
	timer   *time.Timer
	writing atomic.Bool
}

func newWatchdog(d time.Duration, cancel context.CancelCauseFunc) *watchdog {
	wd := &watchdog{d: d}
	wd.writing.Store(true)
	wd.timer = time.AfterFunc(d, func() { cancel(&ioTimeout{writing: wd.writing.Load()}) })
	return wd
}

func (wd *watchdog) reset()   { wd.timer.Reset(wd.d) }
func (wd *watchdog) reading() { wd.writing.Store(false) }
func (wd *watchdog) stop()    { wd.timer.Stop() }

// watchedReader is a request body that resets the watchdog as it is sent.
type watchedReader struct {
	r  io.Reader
	wd *watchdog
}

func (w *watchedReader) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	w.wd.reset()
	if err == io.EOF {
		w.wd.reading()
	}
	return n, err
}

// watchedBody is a response body that resets the watchdog as it is read
// and ends the attempt (once) when closed.
type watchedBody struct {
	io.ReadCloser
	wd   *watchdog
	done func()
	once sync.Once
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.wd.reset()
	return n, err
}

func (b *watchedBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.done)
	return err
}
