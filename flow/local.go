package flow

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy"
	"github.com/apigo/apigo/policy/exchange"
)

// maxChainDepth bounds proxy chaining, so a proxy that chains to itself
// faults instead of recursing forever.
const maxChainDepth = 8

type chainDepthKey struct{}

// resolveLocalTargets links every LocalTargetConnection naming an APIProxy
// to that proxy's endpoint, once all proxies are built.
func (e *Engine) resolveLocalTargets(ps *bundle.Problems) {
	for _, p := range e.proxies {
		for _, t := range p.targets {
			lc := t.local
			if lc == nil || lc.APIProxy == "" {
				continue
			}
			epName := lc.ProxyEndpoint
			if epName == "" {
				epName = "default"
			}
			for _, q := range e.proxies {
				if q.name != lc.APIProxy {
					continue
				}
				for _, pe := range q.endpoints {
					if pe.name == epName {
						t.localPE = pe
					}
				}
			}
			if t.localPE == nil {
				// A warning, so a proxy validates without the one it chains to;
				// a request routed here faults with ApplicationNotFound.
				ps.Warnf(lc.Pos, "LocalTargetConnection: no deployed proxy %q with ProxyEndpoint %q; requests routed here fault", lc.APIProxy, epName)
			}
		}
	}
}

// callLocal dispatches the current request in process to another deployed
// proxy (proxy chaining) and makes its answer the response message.
func (ex *execution) callLocal(t *targetEndpoint) *policy.Fault {
	x := ex.x
	depth, _ := ex.ctx.Value(chainDepthKey{}).(int)
	if depth >= maxChainDepth {
		return &policy.Fault{Name: "ChainingLoop", Code: "messaging.runtime.ChainingLoop", Status: 500,
			FaultString: fmt.Sprintf("proxy chaining deeper than %d levels", maxChainDepth), Source: "target"}
	}
	base := t.local.Path
	pe := t.localPE
	if pe == nil && t.local.APIProxy != "" {
		return &policy.Fault{Name: "ApplicationNotFound", Code: "messaging.adaptors.http.flow.ApplicationNotFound", Status: 404,
			FaultString: "Unable to identify proxy " + t.local.APIProxy + " for a LocalTargetConnection", Source: "target"}
	}
	if pe != nil {
		base = pe.basePath
		if base == "/" {
			base = ""
		}
	}
	path := base
	if boolVar(x, "target.copy.pathsuffix", true) {
		s, _ := x.GetString("proxy.pathsuffix")
		path += s
	}
	if path == "" {
		path = "/"
	}
	if pe == nil {
		if pe = ex.e.match(path); pe == nil {
			return &policy.Fault{Name: "ApplicationNotFound", Code: "messaging.adaptors.http.flow.ApplicationNotFound", Status: 404,
				FaultString: "Unable to identify proxy for host: default and url: " + path, Source: "target"}
		}
	}
	q := ""
	if boolVar(x, "target.copy.queryparams", true) {
		q = x.Request().Query.Encode()
	}
	m, err := ex.e.dispatch(ex.ctx, pe, path, q, x.Request())
	if err != nil {
		return transportFault(err)
	}
	x.SetResponse(m)
	x.SetSystem("target.host", "local")
	if m.Status >= 400 {
		return &policy.Fault{Name: "ErrorResponseCode", Code: "messaging.adaptors.http.flow.ErrorResponseCode",
			Status: m.Status, FaultString: "Received " + strconv.Itoa(m.Status) + " Response Code", Source: "target", Response: m}
	}
	return nil
}

// recorder captures a chained proxy's response.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(p)
}

// dispatch runs req through pe in process and returns its response. The
// path is the full request path; rawQuery is sent as the query string.
func (e *Engine) dispatch(ctx context.Context, pe *proxyEndpoint, path, rawQuery string, req *exchange.Message) (*exchange.Message, error) {
	depth, _ := ctx.Value(chainDepthKey{}).(int)
	if err := req.Materialize(); err != nil {
		return nil, err
	}
	u := "http://local" + path
	if rawQuery != "" {
		u += "?" + rawQuery
	}
	ctx = context.WithValue(ctx, chainDepthKey{}, depth+1)
	r, err := http.NewRequestWithContext(ctx, req.Verb, u, bytes.NewReader(req.Body))
	if err != nil {
		return nil, err
	}
	r.Header = req.Header.Clone()
	r.ContentLength = int64(len(req.Body))
	r.RemoteAddr = "127.0.0.1:0"
	r.Host = "local"
	rec := &recorder{header: http.Header{}}
	sub := e.newExecution(pe, e.newExchange(pe, r), ctx, rec)
	sub.run()
	m := exchange.NewResponse()
	m.Status = rec.status
	m.Reason = http.StatusText(rec.status)
	m.Header = rec.header
	m.Header.Del("Content-Length")
	m.Body = rec.body.Bytes()
	return m, nil
}

// DispatchLocal serves a ServiceCallout's LocalTargetConnection
// (policy.LocalDispatcher): apiProxy and endpoint name a deployed
// ProxyEndpoint and path goes under its base path; without apiProxy, path
// is matched against every base path.
func (e *Engine) DispatchLocal(ctx context.Context, apiProxy, endpoint, path string, req *exchange.Message) (*exchange.Message, error) {
	if depth, _ := ctx.Value(chainDepthKey{}).(int); depth >= maxChainDepth {
		return nil, fmt.Errorf("proxy chaining deeper than %d levels", maxChainDepth)
	}
	var pe *proxyEndpoint
	if apiProxy != "" {
		if endpoint == "" {
			endpoint = "default"
		}
		for _, p := range e.proxies {
			for _, c := range p.endpoints {
				if p.name == apiProxy && c.name == endpoint {
					pe = c
				}
			}
		}
		if pe == nil {
			return nil, fmt.Errorf("no deployed proxy %q with ProxyEndpoint %q", apiProxy, endpoint)
		}
		if pe.basePath != "/" {
			path = pe.basePath + path
		}
	} else if pe = e.match(path); pe == nil {
		return nil, fmt.Errorf("no deployed proxy serves %s", path)
	}
	if path == "" {
		path = "/"
	}
	return e.dispatch(ctx, pe, path, req.Query.Encode(), req)
}
