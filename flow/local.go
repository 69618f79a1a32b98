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
				ps.Errorf(lc.Pos, "LocalTargetConnection: no deployed proxy %q with ProxyEndpoint %q", lc.APIProxy, epName)
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
	req := x.Request()
	if err := req.Materialize(); err != nil {
		return transportFault(err)
	}
	u := "http://local" + path
	if boolVar(x, "target.copy.queryparams", true) && len(req.Query) > 0 {
		u += "?" + req.Query.Encode()
	}
	ctx := context.WithValue(ex.ctx, chainDepthKey{}, depth+1)
	r, err := http.NewRequestWithContext(ctx, req.Verb, u, bytes.NewReader(req.Body))
	if err != nil {
		return transportFault(err)
	}
	r.Header = req.Header.Clone()
	r.ContentLength = int64(len(req.Body))
	r.RemoteAddr = "127.0.0.1:0"
	r.Host = "local"
	rec := &recorder{header: http.Header{}}
	sub := &execution{e: ex.e, pe: pe, x: ex.e.newExchange(pe, r), ctx: ctx, w: rec}
	sub.run()
	m := exchange.NewResponse()
	m.Status = rec.status
	m.Reason = http.StatusText(rec.status)
	m.Header = rec.header
	m.Header.Del("Content-Length")
	m.Body = rec.body.Bytes()
	x.SetResponse(m)
	x.SetSystem("target.host", "local")
	if !defaultSuccessCodes.has(m.Status) {
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
