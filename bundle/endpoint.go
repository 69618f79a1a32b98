package bundle

import (
	"strings"

	"github.com/beevik/etree"
)

// xmlReader reads model parts out of one Doc, recording problems.
type xmlReader struct {
	d  *Doc
	ps *Problems
}

func (r xmlReader) text(e *etree.Element) string {
	if e == nil {
		return ""
	}
	return strings.TrimSpace(e.Text())
}

func (r xmlReader) unexpected(e *etree.Element, parent string) {
	r.ps.Warnf(r.d.Pos(e), "unexpected element <%s> in <%s>", e.Tag, parent)
}

// step reads <Step><Name/><Condition/></Step>, children in any order.
func (r xmlReader) step(e *etree.Element) *Step {
	s := &Step{Pos: r.d.Pos(e)}
	var name *etree.Element
	for _, c := range e.ChildElements() {
		switch c.Tag {
		case "Name":
			if name != nil {
				r.ps.Errorf(r.d.Pos(c), "<Step> has more than one <Name>")
				continue
			}
			name = c
			s.Name = r.text(c)
		case "Condition":
			s.Condition = r.d.condition(c, r.ps)
		case "FaultRules", "Description":
		default:
			r.unexpected(c, "Step")
		}
	}
	if s.Name == "" {
		r.ps.Errorf(s.Pos, "<Step> has no <Name>")
	}
	return s
}

// steps reads the <Step> children of e (a Request, Response, FaultRule,
// SharedFlow...); other children are left to the caller when allowed.
func (r xmlReader) steps(e *etree.Element, allowed ...string) []*Step {
	var out []*Step
	for _, c := range e.ChildElements() {
		switch {
		case c.Tag == "Step":
			out = append(out, r.step(c))
		case contains(allowed, c.Tag):
		default:
			r.unexpected(c, e.Tag)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// flow reads a PreFlow, PostFlow, PostClientFlow or conditional Flow.
func (r xmlReader) flow(e *etree.Element, conditional bool) *Flow {
	f := &Flow{Name: e.SelectAttrValue("name", ""), Pos: r.d.Pos(e)}
	for _, c := range e.ChildElements() {
		switch c.Tag {
		case "Description":
			f.Description = r.text(c)
		case "Request":
			f.Request = r.steps(c)
		case "Response":
			f.Response = r.steps(c)
		case "Condition":
			if !conditional {
				r.ps.Errorf(r.d.Pos(c), "<%s> cannot have a <Condition>", e.Tag)
				continue
			}
			f.Condition = r.d.condition(c, r.ps)
		default:
			r.unexpected(c, e.Tag)
		}
	}
	return f
}

// faultRule reads a <FaultRule> or <DefaultFaultRule>.
func (r xmlReader) faultRule(e *etree.Element) *FaultRule {
	fr := &FaultRule{Name: e.SelectAttrValue("name", ""), Pos: r.d.Pos(e)}
	for _, c := range e.ChildElements() {
		switch c.Tag {
		case "Step":
			fr.Steps = append(fr.Steps, r.step(c))
		case "Condition":
			fr.Condition = r.d.condition(c, r.ps)
		case "AlwaysEnforce":
			if e.Tag != "DefaultFaultRule" {
				r.unexpected(c, e.Tag)
				continue
			}
			fr.AlwaysEnforce = r.boolText(c)
		case "Description":
		default:
			r.unexpected(c, e.Tag)
		}
	}
	return fr
}

func (r xmlReader) boolText(e *etree.Element) bool {
	v, ok := parseBool(r.text(e))
	if !ok {
		r.ps.Errorf(r.d.TextPos(e), "<%s> must be true or false, not %q", e.Tag, r.text(e))
	}
	return v
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// sharedEndpointChildren are the children endpoint reads, plus EventFlow
// (server-sent events, accepted and ignored).
var sharedEndpointChildren = []string{"Description", "PreFlow", "PostFlow", "Flows", "FaultRules", "DefaultFaultRule", "EventFlow"}

// endpoint reads what Proxy and Target endpoints share.
func (r xmlReader) endpoint(e *etree.Element, ep *Endpoint, fallbackName string) {
	ep.File, ep.Pos = r.d.File, r.d.Pos(e)
	ep.Name = e.SelectAttrValue("name", "")
	if ep.Name == "" {
		ep.Name = fallbackName
		r.ps.Warnf(ep.Pos, "<%s> has no name attribute; using the file name %q", e.Tag, fallbackName)
	}
	for _, c := range e.ChildElements() {
		switch c.Tag {
		case "Description":
			ep.Description = r.text(c)
		case "PreFlow":
			ep.PreFlow = first(ep.PreFlow, r.flow(c, false))
		case "PostFlow":
			ep.PostFlow = first(ep.PostFlow, r.flow(c, false))
		case "Flows":
			for _, f := range c.ChildElements() {
				if f.Tag != "Flow" {
					r.unexpected(f, "Flows")
					continue
				}
				ep.Flows = append(ep.Flows, r.flow(f, true))
			}
		case "FaultRules":
			for _, f := range c.ChildElements() {
				if f.Tag != "FaultRule" {
					r.unexpected(f, "FaultRules")
					continue
				}
				ep.FaultRules = append(ep.FaultRules, r.faultRule(f))
			}
		case "DefaultFaultRule":
			ep.DefaultFaultRule = r.faultRule(c)
		}
	}
	if ep.PreFlow == nil {
		ep.PreFlow = &Flow{Name: "PreFlow", Pos: ep.Pos}
	}
	if ep.PostFlow == nil {
		ep.PostFlow = &Flow{Name: "PostFlow", Pos: ep.Pos}
	}
}

func first(have, f *Flow) *Flow {
	if have != nil {
		return have
	}
	return f
}

func (r xmlReader) properties(e *etree.Element) []Property {
	var out []Property
	for _, c := range e.ChildElements() {
		if c.Tag != "Property" {
			r.unexpected(c, e.Tag)
			continue
		}
		name := c.SelectAttrValue("name", "")
		if name == "" {
			r.ps.Errorf(r.d.Pos(c), "<Property> has no name attribute")
			continue
		}
		out = append(out, Property{Name: name, Value: r.text(c), Pos: r.d.Pos(c)})
	}
	return out
}

// proxyEndpoint reads a <ProxyEndpoint> file.
func (r xmlReader) proxyEndpoint(e *etree.Element, fallbackName string) *ProxyEndpoint {
	pe := &ProxyEndpoint{BasePath: "/"}
	r.endpoint(e, &pe.Endpoint, fallbackName)
	pe.BasePathPos = pe.Pos
	for _, c := range e.ChildElements() {
		switch c.Tag {
		case "HTTPProxyConnection":
			r.proxyConnection(c, pe)
		case "RouteRule":
			pe.RouteRules = append(pe.RouteRules, r.routeRule(c))
		case "PostClientFlow":
			if pe.PostClientFlow == nil {
				pe.PostClientFlow = r.flow(c, false)
			}
		default:
			if !contains(sharedEndpointChildren, c.Tag) {
				r.unexpected(c, e.Tag)
			}
		}
	}
	return pe
}

func (r xmlReader) proxyConnection(e *etree.Element, pe *ProxyEndpoint) {
	for _, c := range e.ChildElements() {
		switch c.Tag {
		case "BasePath":
			if bp := r.text(c); bp != "" {
				pe.BasePath, pe.BasePathPos = bp, r.d.TextPos(c)
			}
		case "VirtualHost":
			if vh := r.text(c); vh != "" {
				pe.VirtualHosts = append(pe.VirtualHosts, vh)
			}
		case "Properties":
			pe.Properties = append(pe.Properties, r.properties(c)...)
		}
	}
}

func (r xmlReader) routeRule(e *etree.Element) *RouteRule {
	rr := &RouteRule{Name: e.SelectAttrValue("name", ""), Pos: r.d.Pos(e)}
	for _, c := range e.ChildElements() {
		switch c.Tag {
		case "Condition":
			rr.Condition = r.d.condition(c, r.ps)
		case "TargetEndpoint":
			rr.TargetEndpoint = r.text(c)
		case "URL":
			rr.URL = r.text(c)
		default:
			r.unexpected(c, "RouteRule")
		}
	}
	if rr.TargetEndpoint != "" && rr.URL != "" {
		r.ps.Errorf(rr.Pos, "<RouteRule> has both <TargetEndpoint> and <URL>")
	}
	return rr
}

// targetEndpoint reads a <TargetEndpoint> file.
func (r xmlReader) targetEndpoint(e *etree.Element, fallbackName string) *TargetEndpoint {
	te := &TargetEndpoint{Element: e, Doc: r.d}
	r.endpoint(e, &te.Endpoint, fallbackName)
	for _, c := range e.ChildElements() {
		switch c.Tag {
		case "HTTPTargetConnection":
			te.HTTP = r.httpTarget(c)
			te.Properties = append(te.Properties, te.HTTP.Properties...)
		case "LocalTargetConnection":
			te.Local = &LocalTargetConnection{Pos: r.d.Pos(c),
				APIProxy:      r.text(c.SelectElement("APIProxy")),
				ProxyEndpoint: r.text(c.SelectElement("ProxyEndpoint")),
				Path:          r.text(c.SelectElement("Path"))}
		case "ScriptTarget", "HostedTarget":
		default:
			if !contains(sharedEndpointChildren, c.Tag) {
				r.unexpected(c, e.Tag)
			}
		}
	}
	if te.HTTP != nil && te.Local != nil {
		r.ps.Errorf(te.Local.Pos, "<TargetEndpoint> has both <HTTPTargetConnection> and <LocalTargetConnection>")
	}
	return te
}

// HTTPTargetConnection reads an <HTTPTargetConnection> element of this
// document (a ServiceCallout policy's, say) the way a TargetEndpoint's is
// read, recording problems in ps.
func (d *Doc) HTTPTargetConnection(e *etree.Element, ps *Problems) *HTTPTargetConnection {
	return xmlReader{d, ps}.httpTarget(e)
}

func (r xmlReader) httpTarget(e *etree.Element) *HTTPTargetConnection {
	h := &HTTPTargetConnection{Pos: r.d.Pos(e), URLPos: r.d.Pos(e)}
	for _, c := range e.ChildElements() {
		switch c.Tag {
		case "URL":
			h.URL, h.URLPos = r.text(c), r.d.TextPos(c)
		case "Path":
			h.Path = r.text(c)
		case "LoadBalancer":
			h.LoadBalancer = c
		case "SSLInfo":
			h.SSLInfo = c
		case "HealthMonitor":
			h.HealthMonitor = c
		case "Properties":
			h.Properties = append(h.Properties, r.properties(c)...)
		}
	}
	if h.URL != "" && h.LoadBalancer != nil {
		r.ps.Errorf(h.Pos, "<HTTPTargetConnection> has both <URL> and <LoadBalancer>")
	}
	return h
}
