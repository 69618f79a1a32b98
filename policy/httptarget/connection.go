package httptarget

import (
	"crypto/tls"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/template"
)

// Options configure Build. The zero value is usable.
type Options struct {
	// Transport sends every request and probe of the connection; nil means
	// one pooled http.Transport per Connection honouring its properties and
	// TLS (plus one per target server with its own sSLInfo). An injected
	// Transport is used as is: SSLInfo and the timeout properties other
	// than io.timeout.millis are then its business.
	Transport http.RoundTripper
	// MapURL rewrites outgoing URLs (and health probes) that start with From
	// to start with To (--map-url), applied last. The first match wins.
	MapURL []URLMap
	// ReadmitAfter is how long a server taken out of rotation stays out when
	// no HealthMonitor is enabled; then one request at a time tries it
	// (half-open) and a response puts it back. Default 5 minutes
	// (reference 7.2). A LoadBalancer's <TargetDisableSecs> (Edge) wins.
	ReadmitAfter time.Duration
	// TakeOutOnFirstFailure takes a server out at its first failure when
	// MaxFailures > 0, the literal reading of Apigee's page; default false:
	// count to MaxFailures (reference 7.2 [?]).
	TakeOutOnFirstFailure bool
	// StrictTLS verifies every https target against the system roots unless
	// IgnoreValidationErrors is set. Default false: like Apigee, a target
	// certificate is only checked with <Enforce>true</Enforce> or a
	// <TrustStore>.
	StrictTLS bool
	// KeystoreDir is the folder holding truststores and keystores (the
	// environment folder's keystores/ subfolder); see the package doc.
	KeystoreDir string
	// Org and Env go into X-Apigee-Healthcheck-Id; default "local".
	Org, Env string
	// Log receives a line whenever a server leaves or rejoins rotation; nil
	// discards.
	Log func(string)
}

// URLMap is one --map-url FROM=TO rewrite.
type URLMap struct{ From, To string }

// Connection is a compiled HTTPTargetConnection: immutable configuration
// plus the shared, atomic health of its servers. It is safe for concurrent
// use.
type Connection struct {
	url, path *template.Template
	props     props
	transport http.RoundTripper
	owned     []*http.Transport
	lb        *loadBalancer
	mon       *monitor
	mapURL    []URLMap
	closeOnce sync.Once
}

// Build compiles an HTTPTargetConnection of doc: its properties
// (connect.timeout.millis, io.timeout.millis, keepalive.timeout.millis,
// success.codes), URL or LoadBalancer with Path, SSLInfo and HealthMonitor,
// resolving servers against env's TargetServers. Problems go to ps with
// positions; the Connection returned is usable either way (a broken part
// falls back to defaults). An enabled HealthMonitor starts probing at once
// when the connection built cleanly: Close every Connection.
func Build(c *bundle.HTTPTargetConnection, doc *bundle.Doc, env *bundle.Environment, opts Options, ps *bundle.Problems) *Connection {
	r := reader{doc: doc, ps: ps}
	errs := len(ps.List)
	conn := &Connection{props: readProps(c.Properties, ps), mapURL: opts.MapURL}
	var endpointTLS *sslInfo
	if c.SSLInfo != nil {
		endpointTLS = readSSLInfo(r, c.SSLInfo)
	}
	conn.transport = conn.newTransport(opts, endpointTLS, c.Pos, ps)
	switch {
	case c.LoadBalancer != nil:
		conn.buildLoadBalancer(r, c, env, endpointTLS, opts)
	case c.URL != "":
		t, err := template.Parse(c.URL)
		if err != nil {
			ps.Errorf(c.URLPos, "<URL>: %v", err)
		}
		conn.url = t
	default:
		ps.Errorf(c.Pos, "<HTTPTargetConnection> has neither <URL> nor <LoadBalancer>")
	}
	if c.HealthMonitor != nil {
		conn.buildMonitor(r, c.HealthMonitor, opts)
	}
	if conn.mon != nil && !hasErrors(ps, errs) {
		conn.mon.start()
	}
	return conn
}

func hasErrors(ps *bundle.Problems, from int) bool {
	for _, p := range ps.List[from:] {
		if p.Severity == bundle.Error {
			return true
		}
	}
	return false
}

func (conn *Connection) buildLoadBalancer(r reader, c *bundle.HTTPTargetConnection, env *bundle.Environment, endpointTLS *sslInfo, opts Options) {
	lb := readLoadBalancer(r, c.LoadBalancer, env, opts)
	for _, s := range lb.servers {
		ts := env.TargetServers[s.name]
		info := endpointTLS
		s.transport = conn.transport
		if ts.SSLInfo != nil {
			info = fromTLSInfo(ts.SSLInfo, ts.Pos)
			s.transport = conn.newTransport(opts, info, ts.Pos, r.ps)
		}
		s.tls = info
		s.scheme = "http"
		if info != nil && info.enabled {
			s.scheme = "https"
		}
		s.base = s.scheme + "://" + net.JoinHostPort(s.host, strconv.Itoa(s.port))
	}
	lb.finish(r, c.LoadBalancer)
	conn.lb = lb
	pathPos := c.Pos
	if pe := c.LoadBalancer.Parent().SelectElement("Path"); pe != nil {
		pathPos = r.doc.TextPos(pe)
	}
	if c.Path != "" {
		t, err := template.Parse(c.Path)
		if err != nil {
			r.ps.Errorf(pathPos, "<Path>: %v", err)
		}
		conn.path = t
	}
}

// newTransport returns the injected transport, or a new pooled one with
// info's TLS configuration (nil info: no SSLInfo).
func (conn *Connection) newTransport(opts Options, info *sslInfo, pos bundle.Pos, ps *bundle.Problems) http.RoundTripper {
	if opts.Transport != nil {
		return opts.Transport
	}
	tc := &tls.Config{InsecureSkipVerify: !opts.StrictTLS}
	if info != nil {
		var err error
		if tc, err = info.config(opts); err != nil {
			ps.Errorf(info.pos, "SSLInfo: %v", err)
			tc = &tls.Config{}
		}
	}
	p := conn.props
	d := &net.Dialer{Timeout: p.connect, KeepAlive: 30 * time.Second}
	t := &http.Transport{
		DialContext:           d.DialContext,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       p.keepAlive,
		TLSHandshakeTimeout:   p.connect,
		ExpectContinueTimeout: time.Second,
		TLSClientConfig:       tc,
	}
	conn.owned = append(conn.owned, t)
	return t
}

// LoadBalanced reports whether the connection has a LoadBalancer.
func (conn *Connection) LoadBalanced() bool { return conn.lb != nil }

// URL is the <URL> template of a URL connection, nil for a load-balanced
// one.
func (conn *Connection) URL() *template.Template { return conn.url }

// Path is the <Path> template of a load-balanced connection, nil otherwise
// or when absent.
func (conn *Connection) Path() *template.Template {
	if conn.lb == nil {
		return nil
	}
	return conn.path
}

// IsSuccess reports whether code is a success code (success.codes, default
// 1XX,2XX,3XX).
func (conn *Connection) IsSuccess(code int) bool { return conn.props.codes.has(code) }

// SuccessCodes renders the success codes as success.codes spells them.
func (conn *Connection) SuccessCodes() string { return conn.props.codes.String() }

// IOTimeout is io.timeout.millis.
func (conn *Connection) IOTimeout() time.Duration { return conn.props.io }

// Servers lists a load-balanced connection's servers in <Server> order,
// with their live health; nil for a URL connection.
func (conn *Connection) Servers() []*Server {
	if conn.lb == nil {
		return nil
	}
	return conn.lb.servers
}

// Close stops the health monitor (waiting for its goroutine) and closes
// idle connections. Sends still in flight finish normally.
func (conn *Connection) Close() {
	conn.closeOnce.Do(func() {
		if conn.mon != nil {
			conn.mon.stop()
		}
		for _, t := range conn.owned {
			t.CloseIdleConnections()
		}
	})
}

func mapURL(maps []URLMap, u string) string {
	for _, m := range maps {
		if strings.HasPrefix(u, m.From) {
			return m.To + u[len(m.From):]
		}
	}
	return u
}
