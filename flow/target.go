package flow

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy"
	"github.com/apigo/apigo/policy/exchange"
	"github.com/apigo/apigo/policy/httptarget"
)

// targetOptions derives the options of every outgoing connection (target
// endpoints, URL routes, policies such as ServiceCallout) from the
// engine's: one transport and one set of --map-url rewrites for all.
func targetOptions(opts *Options, env *bundle.Environment) httptarget.Options {
	t := opts.Target
	if opts.Transport != nil {
		t.Transport = opts.Transport
	}
	for _, m := range opts.MapURL {
		t.MapURL = append(t.MapURL, httptarget.URLMap{From: m.From, To: m.To})
	}
	if t.Org == "" {
		t.Org = opts.Org
	}
	if t.Env == "" {
		t.Env = opts.Env
	}
	if t.KeystoreDir == "" && env != nil && env.Dir != "" {
		dir := filepath.Join(env.Dir, "keystores")
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
			t.KeystoreDir = dir
		}
	}
	return t
}

// mergeTargetOptions gives policies the engine's connection options; what
// the caller set for policies explicitly comes first.
func mergeTargetOptions(own, engine httptarget.Options) httptarget.Options {
	own.MapURL = append(own.MapURL, engine.MapURL...)
	if own.Transport == nil {
		own.Transport = engine.Transport
	}
	if own.KeystoreDir == "" {
		own.KeystoreDir = engine.KeystoreDir
	}
	if own.ReadmitAfter == 0 {
		own.ReadmitAfter = engine.ReadmitAfter
	}
	if own.Org == "" {
		own.Org, own.Env = engine.Org, engine.Env
	}
	if own.Log == nil {
		own.Log = engine.Log
	}
	own.TakeOutOnFirstFailure = own.TakeOutOnFirstFailure || engine.TakeOutOnFirstFailure
	own.StrictTLS = own.StrictTLS || engine.StrictTLS
	return own
}

// outgoingURL applies Apigee's path rewriting rules (reference 2.5): the
// path suffix and the current query parameters are appended unless
// target.copy.pathsuffix / target.copy.queryparams are false.
func (ex *execution) outgoingURL(base string) string {
	x := ex.x
	u := base
	if boolVar(x, "target.copy.pathsuffix", true) {
		s, _ := x.GetString("proxy.pathsuffix")
		u += s
	}
	if q := x.Request().Query; len(q) > 0 && boolVar(x, "target.copy.queryparams", true) {
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		u += sep + q.Encode()
	}
	return u
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

// targetCall picks the connection and URL of a TargetEndpoint's call. With
// a LoadBalancer, target.url reads null in the target flow; a policy that
// sets it anyway sends the request straight to that URL, bypassing the
// balancer (reference 2.5 leaves this [?]; documented in the README).
func (ex *execution) targetCall(t *targetEndpoint) (*httptarget.Connection, string) {
	x := ex.x
	if t.conn.LoadBalanced() {
		if u, ok := x.GetString("target.url"); ok && u != "" {
			return t.direct, ex.outgoingURL(u)
		}
		tail := ""
		if p := t.conn.Path(); p != nil {
			tail = p.Render(x)
		}
		return t.conn, ex.outgoingURL(tail)
	}
	u, _ := x.GetString("target.url")
	return t.conn, ex.outgoingURL(u)
}

// send makes the target call on conn and makes the reply the response
// message; a status outside success.codes is an ErrorResponseCode fault
// whose response is the backend's own.
func (ex *execution) send(conn *httptarget.Connection, u string, stream bool) *policy.Fault {
	x := ex.x
	ctx := ex.ctx
	if h, ok := x.GetString("target.header.host"); ok && h != "" {
		ctx = httptarget.WithHost(ctx, h)
	}
	req := x.Request()
	began := time.Now()
	m, info, err := conn.Send(ctx, req, u, stream)
	if info != nil {
		ex.setTargetVars(info)
		req.URL = info.URL
	}
	if ex.tr != nil {
		ev := Event{Kind: "target", Name: req.Verb, URL: u, DurationUS: time.Since(began).Microseconds()}
		if info != nil {
			ev.URL = info.URL
			ev.Value = info.Server
		}
		if err != nil {
			ev.Error = err.Error()
		} else {
			ev.Status = m.Status
		}
		ex.tr.add(ev)
	}
	if err != nil {
		return transportFault(err)
	}
	m.URL = req.URL
	x.SetResponse(m)
	if !conn.IsSuccess(m.Status) {
		return &policy.Fault{Name: "ErrorResponseCode", Code: "messaging.adaptors.http.flow.ErrorResponseCode",
			Status: m.Status, FaultString: "Received " + strconv.Itoa(m.Status) + " Response Code", Source: "target", Response: m}
	}
	return nil
}

// setTargetVars sets target.* and loadbalancing.* from where a call went.
func (ex *execution) setTargetVars(info *httptarget.Info) {
	x := ex.x
	x.SetSystem("target.host", info.Host)
	x.SetSystem("target.port", info.Port)
	x.SetSystem("target.scheme", info.Scheme)
	x.SetSystem("target.ssl.enabled", info.Scheme == "https")
	stamp := func(name string, t time.Time) {
		if !t.IsZero() {
			x.SetSystem(name, t.UnixMilli())
		}
	}
	stamp("target.sent.start.timestamp", info.SentStart)
	stamp("target.sent.end.timestamp", info.SentEnd)
	stamp("target.received.start.timestamp", info.ReceivedStart)
	stamp("target.received.end.timestamp", info.ReceivedEnd)
	if info.Server != "" {
		x.SetSystem("loadbalancing.targetserver", info.Server)
		x.SetSystem("loadbalancing.isfallback", info.IsFallback)
		x.SetSystem("loadbalancing.failedservers", info.FailedServers)
	}
}

// transportFault turns a failed call into Apigee's fault (the table in
// package httptarget's documentation).
func transportFault(err error) *policy.Fault {
	f := &policy.Fault{Source: "target", Cause: err, Status: 503, Name: "ServiceUnavailable",
		Code: "messaging.adaptors.http.flow.ServiceUnavailable", FaultString: "The Service is temporarily unavailable"}
	var te *httptarget.Error
	if !errors.As(err, &te) {
		f.Status, f.Name, f.Code, f.FaultString = 502, "UnexpectedEOFAtTarget", "messaging.adaptors.http.flow.UnexpectedEOFAtTarget", "Unexpected EOF at target"
		return f
	}
	switch te.Kind {
	case httptarget.ConnectTimeout:
		f.Reason = "TARGET_CONNECT_TIMEOUT"
	case httptarget.ReadTimeout:
		f.Status, f.Name, f.Code, f.FaultString, f.Reason = 504, "GatewayTimeout", "messaging.adaptors.http.flow.GatewayTimeout", "Gateway Timeout", "TARGET_READ_TIMEOUT"
	case httptarget.WriteTimeout:
		f.Status, f.Name, f.Code, f.FaultString = 408, "RequestTimeout", "messaging.adaptors.http.flow.RequestTimeout", "Request Timeout"
	case httptarget.NoActiveTargets:
		f.Name, f.Code = "NoActiveTargets", "messaging.adaptors.http.flow.NoActiveTargets"
	case httptarget.TLS:
		f.Name, f.Code = "SslHandshakeFailed", "messaging.adaptors.http.flow.SslHandshakeFailed"
	case httptarget.BadURL:
		f.Name = "InvalidTargetURL"
	case httptarget.Other:
		f.Status, f.Name, f.Code, f.FaultString = 502, "UnexpectedEOFAtTarget", "messaging.adaptors.http.flow.UnexpectedEOFAtTarget", "Unexpected EOF at target"
	case httptarget.Canceled:
		f.Status, f.Name, f.Code, f.FaultString = 499, "ClientClosed", "messaging.adaptors.http.flow.ClientClosed", "The client closed the connection"
	}
	return f
}

// urlPath is target.basepath: the path of the configured URL, or null when
// it has none.
func urlPath(u string) any {
	p, err := url.Parse(u)
	if err != nil || p.Path == "" {
		return nil
	}
	return p.Path
}
