package httptarget

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/beevik/etree"
)

// monitor is a compiled <HealthMonitor>: one goroutine per Connection
// probing every enabled server each interval. Probe results feed the same
// failure counter as live calls.
type monitor struct {
	interval time.Duration
	tcp      *tcpProbe
	http     *httpProbe
	lb       *loadBalancer
	mapURL   []URLMap
	cancel   context.CancelFunc
	done     chan struct{}
}

type tcpProbe struct {
	timeout time.Duration
	port    int
}

type httpProbe struct {
	ssl               bool
	connect, read     time.Duration
	port              int
	verb, path        string
	payload           []byte
	header            http.Header
	checkID           string // "org/env/uuid/" when IncludeHealthCheckIdHeader
	codes             map[int]bool
	wantHeader        map[string]string
	clients           []*http.Client // per server
	transportsToClose []*http.Transport
}

// defaultProbeTimeout is what a 0 or absent probe timeout means (reference 7.3).
const defaultProbeTimeout = 30 * time.Second

func seconds(f float64) time.Duration {
	if f <= 0 {
		return defaultProbeTimeout
	}
	return time.Duration(f * float64(time.Second))
}

func (conn *Connection) buildMonitor(r reader, e *etree.Element, opts Options) {
	r.unknown(e, "IsEnabled", "IntervalInSec", "TCPMonitor", "HTTPMonitor")
	tcpE, httpE := e.SelectElement("TCPMonitor"), e.SelectElement("HTTPMonitor")
	switch {
	case conn.lb == nil:
		r.ps.Errorf(r.pos(e), "<HealthMonitor> needs a <LoadBalancer> (it probes target servers)")
		return
	case tcpE != nil && httpE != nil:
		r.ps.Errorf(r.pos(httpE), "<HealthMonitor> has both <TCPMonitor> and <HTTPMonitor>; use one")
		return
	}
	enabled := r.boolOf(e, "IsEnabled", false)
	interval := r.secondsOf(e, "IntervalInSec", 0)
	if !enabled {
		return
	}
	switch {
	case e.SelectElement("IntervalInSec") == nil || interval <= 0:
		r.ps.Errorf(r.pos(e), "<HealthMonitor> needs a positive <IntervalInSec>")
		return
	case tcpE == nil && httpE == nil:
		r.ps.Errorf(r.pos(e), "<HealthMonitor> needs a <TCPMonitor> or an <HTTPMonitor>")
		return
	}
	if conn.lb.maxFailures == 0 {
		r.ps.Warnf(r.pos(e), "<HealthMonitor> takes servers out only when the LoadBalancer's <MaxFailures> is above 0")
	}
	m := &monitor{interval: time.Duration(interval * float64(time.Second)), lb: conn.lb, mapURL: opts.MapURL}
	if tcpE != nil {
		r.unknown(tcpE, "ConnectTimeoutInSec", "Port")
		m.tcp = &tcpProbe{timeout: seconds(r.secondsOf(tcpE, "ConnectTimeoutInSec", 0)), port: r.intOf(tcpE, "Port", 0, 1, 65535)}
	} else {
		m.http = conn.readHTTPProbe(r, httpE, opts)
	}
	conn.lb.monitored = true
	conn.mon = m
}

func (conn *Connection) readHTTPProbe(r reader, e *etree.Element, opts Options) *httpProbe {
	r.unknown(e, "Request", "SuccessResponse")
	p := &httpProbe{verb: http.MethodGet, path: "/", header: http.Header{}, codes: map[int]bool{}, wantHeader: map[string]string{}}
	useServerTLS, trustAll := false, false
	if q := e.SelectElement("Request"); q != nil {
		r.unknown(q, "IsSSL", "TrustAllSSL", "UseTargetServerSSLInfo", "ConnectTimeoutInSec", "SocketReadTimeoutInSec",
			"Port", "Verb", "Path", "Payload", "Header", "IncludeHealthCheckIdHeader")
		p.ssl, trustAll = r.boolOf(q, "IsSSL", false), r.boolOf(q, "TrustAllSSL", false)
		useServerTLS = r.boolOf(q, "UseTargetServerSSLInfo", false)
		p.connect = seconds(r.secondsOf(q, "ConnectTimeoutInSec", 0))
		p.read = seconds(r.secondsOf(q, "SocketReadTimeoutInSec", 0))
		p.port = r.intOf(q, "Port", 0, 1, 65535)
		if v := r.text(q.SelectElement("Verb")); v != "" {
			p.verb = strings.ToUpper(v)
		}
		if v := r.text(q.SelectElement("Path")); v != "" {
			p.path = v
		}
		if pl := q.SelectElement("Payload"); pl != nil {
			p.payload = []byte(pl.Text())
		}
		for _, h := range q.SelectElements("Header") {
			p.header.Add(h.SelectAttrValue("name", ""), r.text(h))
		}
		if r.boolOf(q, "IncludeHealthCheckIdHeader", false) {
			p.checkID = orLocal(opts.Org) + "/" + orLocal(opts.Env) + "/" + newUUID() + "/"
		}
	}
	if sr := e.SelectElement("SuccessResponse"); sr != nil {
		r.unknown(sr, "ResponseCode", "Header")
		for _, c := range sr.SelectElements("ResponseCode") {
			if n := r.code(c); n > 0 {
				p.codes[n] = true
			}
		}
		for _, h := range sr.SelectElements("Header") {
			p.wantHeader[h.SelectAttrValue("name", "")] = r.text(h)
		}
	}
	p.clients = make([]*http.Client, len(conn.lb.servers))
	for i, s := range conn.lb.servers {
		p.clients[i] = p.client(s, opts, useServerTLS, trustAll, r)
	}
	return p
}

// client builds the probe client of server s: no keep-alive (a probe checks
// that a connection can be made), the probe's own timeouts and TLS.
func (p *httpProbe) client(s *Server, opts Options, useServerTLS, trustAll bool, r reader) *http.Client {
	if opts.Transport != nil {
		return &http.Client{Transport: opts.Transport, Timeout: p.connect + p.read}
	}
	tc := &tls.Config{}
	if useServerTLS && s.tls != nil {
		if c, err := s.tls.config(opts); err == nil {
			tc = c
		} else {
			r.ps.Errorf(s.tls.pos, "SSLInfo for the health monitor: %v", err)
		}
	}
	if trustAll {
		tc.InsecureSkipVerify = true
		tc.VerifyConnection = nil
	}
	d := &net.Dialer{Timeout: p.connect}
	t := &http.Transport{DialContext: d.DialContext, TLSClientConfig: tc, DisableKeepAlives: true,
		TLSHandshakeTimeout: p.connect, ResponseHeaderTimeout: p.read}
	p.transportsToClose = append(p.transportsToClose, t)
	return &http.Client{Transport: t, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func orLocal(s string) string {
	if s == "" {
		return "local"
	}
	return s
}

func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func (m *monitor) start() {
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel, m.done = cancel, make(chan struct{})
	go m.run(ctx)
}

func (m *monitor) stop() {
	if m.cancel == nil {
		return
	}
	m.cancel()
	<-m.done
	if m.http != nil {
		for _, t := range m.http.transportsToClose {
			t.CloseIdleConnections()
		}
	}
}

func (m *monitor) run(ctx context.Context) {
	defer close(m.done)
	t := time.NewTicker(m.interval)
	defer t.Stop()
	for {
		m.probeAll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// probeAll probes every enabled server at once and waits for all.
func (m *monitor) probeAll(ctx context.Context) {
	var wg sync.WaitGroup
	for _, s := range m.lb.servers {
		if !s.enabled {
			continue
		}
		wg.Go(func() {
			err := m.probe(ctx, s)
			switch {
			case ctx.Err() != nil:
			case err == nil:
				m.lb.succeeded(s, "health check passed")
			default:
				m.lb.failed(s, "health check: "+err.Error())
			}
		})
	}
	wg.Wait()
}

func (m *monitor) probe(ctx context.Context, s *Server) error {
	if m.tcp != nil {
		port := s.port
		if m.tcp.port > 0 {
			port = m.tcp.port
		}
		d := net.Dialer{Timeout: m.tcp.timeout}
		c, err := d.DialContext(ctx, "tcp", net.JoinHostPort(s.host, strconv.Itoa(port)))
		if err != nil {
			return err
		}
		return c.Close()
	}
	return m.http.probe(ctx, s, m.mapURL)
}

func (p *httpProbe) probe(ctx context.Context, s *Server, maps []URLMap) error {
	scheme, port := "http", s.port
	if p.ssl {
		scheme = "https"
	}
	if p.port > 0 {
		port = p.port
	}
	path := p.path
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	u := mapURL(maps, scheme+"://"+net.JoinHostPort(s.host, strconv.Itoa(port))+path)
	ctx, cancel := context.WithTimeout(ctx, p.connect+p.read)
	defer cancel()
	var body io.Reader
	if p.payload != nil {
		body = bytes.NewReader(p.payload)
	}
	req, err := http.NewRequestWithContext(ctx, p.verb, u, body)
	if err != nil {
		return err
	}
	for k, vs := range p.header {
		req.Header[k] = vs
	}
	if p.checkID != "" {
		req.Header.Set("X-Apigee-Healthcheck-Id", p.checkID+strconv.FormatInt(time.Now().UnixMilli(), 10))
	}
	resp, err := p.clients[s.index].Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	return p.check(resp)
}

// check applies SuccessResponse: one of the ResponseCodes (any 2XX when none
// is listed) and every Header.
func (p *httpProbe) check(resp *http.Response) error {
	if len(p.codes) > 0 && !p.codes[resp.StatusCode] || len(p.codes) == 0 && resp.StatusCode/100 != 2 {
		return fmt.Errorf("status %d is not a SuccessResponse code", resp.StatusCode)
	}
	for name, want := range p.wantHeader {
		if got := resp.Header.Get(name); got != want {
			return fmt.Errorf("header %s is %q, want %q", name, got, want)
		}
	}
	return nil
}
