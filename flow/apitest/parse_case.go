package apitest

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/apigo/apigo/policy/template"
	"gopkg.in/yaml.v3"
)

func (p *parser) testCase(n *yaml.Node, index int) *Case {
	c := &Case{Name: fmt.Sprintf("case %d", index), Line: n.Line, Request: Request{Method: "GET", Path: "/", Header: http.Header{}}}
	var hasRequest bool
	p.fields(n, "case", func(key string, k, v *yaml.Node) {
		switch key {
		case "name":
			c.Name = p.str(v)
		case "request":
			hasRequest = true
			p.request(&c.Request, v)
		case "expect":
			p.expect(&c.Expect, v)
		default:
			p.unknown(k, "name, request, expect")
		}
	})
	if n.Kind == yaml.MappingNode && !hasRequest {
		p.errorf(n, "case %q: missing request:", c.Name)
	}
	return c
}

func (p *parser) request(r *Request, n *yaml.Node) {
	p.fields(n, "request", func(key string, k, v *yaml.Node) {
		switch key {
		case "method":
			r.Method = strings.ToUpper(p.str(v))
		case "path":
			r.Path = p.str(v)
			if !strings.HasPrefix(r.Path, "/") {
				p.errorf(v, "request path must start with /, got %q", r.Path)
			}
		case "headers":
			p.fields(v, "headers", func(name string, _, hv *yaml.Node) {
				for _, s := range p.strs(hv) {
					r.Header.Add(name, s)
				}
			})
		case "query":
			p.fields(v, "query", func(name string, _, qv *yaml.Node) {
				for _, s := range p.strs(qv) {
					r.Query = append(r.Query, [2]string{name, s})
				}
			})
		case "body":
			var isJSON bool
			r.Body, isJSON = p.body(v)
			if isJSON && r.Header.Get("Content-Type") == "" {
				r.Header.Set("Content-Type", "application/json")
			}
		default:
			p.unknown(k, "method, path, headers, query, body")
		}
	})
	if h := r.Header.Get("Host"); h != "" {
		r.Host = h
		r.Header.Del("Host")
	}
	r.url = p.requestURL(r, n)
}

// requestURL joins host, path and query into the URL the case requests.
func (p *parser) requestURL(r *Request, n *yaml.Node) *url.URL {
	host := firstNonEmpty(r.Host, "localhost")
	u, err := url.Parse("http://" + host + r.Path)
	if err != nil {
		p.errorf(n, "request: bad host or path: %v", err)
		return nil
	}
	if len(r.Query) > 0 {
		q := make([]string, 0, len(r.Query))
		for _, kv := range r.Query {
			q = append(q, url.QueryEscape(kv[0])+"="+url.QueryEscape(kv[1]))
		}
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += strings.Join(q, "&")
	}
	return u
}

func (p *parser) expect(e *Expect, n *yaml.Node) {
	p.fields(n, "expect", func(key string, k, v *yaml.Node) {
		switch key {
		case "status":
			e.Status = p.integer(v, "status", 100, 999)
		case "headers":
			e.Headers = p.headerMatches(v)
		case "body":
			b, _ := p.body(v)
			s := string(b)
			e.Body = &s
		case "body_contains":
			e.BodyContains = p.strs(v)
		case "body_json":
			p.fields(v, "body_json", func(path string, pk, pv *yaml.Node) {
				e.BodyJSON = append(e.BodyJSON, p.jsonExpect(path, pk, pv))
			})
		case "variables":
			p.fields(v, "variables", func(name string, _, vv *yaml.Node) {
				ve := varExpect{name: name, absent: isNull(vv)}
				if !ve.absent {
					ve.want = p.text(vv)
				}
				e.Variables = append(e.Variables, ve)
			})
		case "fault":
			e.Fault = &faultExpect{none: isNull(v)}
			if !e.Fault.none {
				e.Fault.name = p.str(v)
			}
		case "target_called":
			p.fields(v, "target_called", func(mock string, mk, mv *yaml.Node) {
				e.TargetCalled = append(e.TargetCalled, callExpect{mock: mock, count: p.integer(mv, "target_called", 0, 1<<30), line: mk.Line, col: mk.Column})
			})
		default:
			p.unknown(k, "status, headers, body, body_contains, body_json, variables, fault, target_called")
		}
	})
}

// headerMatches reads name: value pairs; null means the header must be
// absent, /.../ a regex.
func (p *parser) headerMatches(n *yaml.Node) []headerMatch {
	var out []headerMatch
	p.fields(n, "headers", func(name string, _, v *yaml.Node) {
		h := headerMatch{name: http.CanonicalHeaderKey(name), absent: isNull(v)}
		if !h.absent {
			h.want = p.text(v)
		}
		out = append(out, h)
	})
	return out
}

func (p *parser) jsonExpect(path string, k, v *yaml.Node) jsonExpect {
	jp, err := template.CompileJSONPath(path)
	if err != nil {
		p.errorf(k, "body_json: %v", err)
	}
	je := jsonExpect{path: jp}
	if v.Kind == yaml.ScalarNode && v.Tag == "!!str" && len(v.Value) >= 2 && strings.HasPrefix(v.Value, "/") && strings.HasSuffix(v.Value, "/") {
		m := p.text(v)
		je.re = &m
		return je
	}
	je.want = p.value(v)
	return je
}
