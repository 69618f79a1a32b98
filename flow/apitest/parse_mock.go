package apitest

import (
	"net/http"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// failModes are the transport failures a mock can simulate.
var failModes = map[string]bool{"refused": true, "timeout": true, "connect_timeout": true, "reset": true}

func (p *parser) mock(n *yaml.Node) *Mock {
	m := &Mock{Line: n.Line}
	var name string
	var base MockResponse
	var list []*yaml.Node
	var single *yaml.Node
	p.fields(n, "mock", func(key string, k, v *yaml.Node) {
		switch key {
		case "name":
			name = p.str(v)
		case "target_server":
			m.TargetServer = p.str(v)
		case "url":
			m.URL = p.str(v)
		case "method":
			m.Method = strings.ToUpper(p.str(v))
		case "path":
			re, err := compileGlob(p.str(v))
			if err != nil {
				p.errorf(v, "path glob: %v", err)
			}
			m.path = re
		case "headers":
			m.headers = p.headerMatches(v)
		case "respond":
			if v.Kind == yaml.SequenceNode {
				list = v.Content
			} else {
				single = v
			}
		case "delay_ms":
			base.Delay = time.Duration(p.integer(v, "delay_ms", 0, 3_600_000)) * time.Millisecond
		case "fail":
			base.Fail = p.failMode(v)
		default:
			p.unknown(k, "name, target_server, url, method, path, headers, respond, delay_ms, fail")
		}
	})
	if n.Kind == yaml.MappingNode && m.TargetServer == "" && m.URL == "" {
		p.errorf(n, "mock: want target_server: or url: to match calls")
	}
	m.Name = firstNonEmpty(name, m.TargetServer, m.URL)
	switch {
	case list != nil:
		for _, item := range list {
			m.Responses = append(m.Responses, p.mockResponse(item, base))
		}
	case single != nil:
		m.Responses = []*MockResponse{p.mockResponse(single, base)}
	default:
		r := base
		r.Status, r.Headers = http.StatusOK, http.Header{}
		m.Responses = []*MockResponse{&r}
	}
	if len(m.Responses) == 0 {
		p.errorf(n, "mock %q: respond: is an empty list", m.Name)
	}
	return m
}

func (p *parser) mockResponse(n *yaml.Node, base MockResponse) *MockResponse {
	r := base
	r.Headers = http.Header{}
	p.fields(n, "respond", func(key string, k, v *yaml.Node) {
		switch key {
		case "status":
			r.Status = p.integer(v, "status", 100, 999)
		case "headers":
			p.fields(v, "headers", func(name string, _, hv *yaml.Node) {
				for _, s := range p.strs(hv) {
					r.Headers.Add(name, s)
				}
			})
		case "body":
			var isJSON bool
			r.Body, isJSON = p.body(v)
			if isJSON && r.Headers.Get("Content-Type") == "" {
				r.Headers.Set("Content-Type", "application/json")
			}
		case "delay_ms":
			r.Delay = time.Duration(p.integer(v, "delay_ms", 0, 3_600_000)) * time.Millisecond
		case "fail":
			r.Fail = p.failMode(v)
		default:
			p.unknown(k, "status, headers, body, delay_ms, fail")
		}
	})
	if r.Status == 0 {
		r.Status = http.StatusOK
	}
	return &r
}

func (p *parser) failMode(n *yaml.Node) string {
	s := strings.ToLower(p.str(n))
	if !failModes[s] {
		p.errorf(n, "fail: want refused, timeout, connect_timeout or reset, got %q", s)
	}
	return s
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
