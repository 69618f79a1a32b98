// Package bundle reads Apigee API proxy bundles, shared flow bundles and Apigee
// Emulator workspaces into a plain model that remembers where every element
// came from. It compiles nothing: the build step in package flow does that.
package bundle

import (
	"github.com/beevik/etree"
)

// Kind tells a proxy bundle from a shared flow bundle.
type Kind int

const (
	// KindProxy is an apiproxy/ bundle.
	KindProxy Kind = iota
	// KindSharedFlow is a sharedflowbundle/ bundle.
	KindSharedFlow
)

// Set is everything loaded from the paths a user gave: the bundles to deploy
// and the environment they are deployed in.
type Set struct {
	Proxies     []*Bundle
	SharedFlows []*Bundle
	// Env is the selected environment of a workspace; never nil. Without a
	// workspace environment it is empty and named after Options.Env, which
	// may be "" (the caller picks a default name then).
	Env *Environment
}

// Bundle is one API proxy or shared flow bundle.
type Bundle struct {
	Kind Kind
	// Name is the manifest's name attribute, else the folder name above
	// apiproxy/ (or the zip's base name). In a workspace it is always the
	// folder name, as deployments.json and the Apigee Emulator use it.
	Name     string
	Revision string // manifest revision attribute, "1" when absent
	// Base is how file positions of this bundle are shown: paths are
	// relative to what the user passed, e.g. "myproxy/apiproxy".
	Base string

	ProxyEndpoints  []*ProxyEndpoint  // sorted by name
	TargetEndpoints []*TargetEndpoint // sorted by name
	SharedFlows     []*SharedFlow     // sharedflowbundle only, sorted by name
	Policies        map[string]*Policy
	// Resources maps resources/<type>/<file> as "<type>://<file>"
	// ("jsc://file.js", "xsl://x.xsl", "oas://spec.yaml",
	// "properties://set.properties" ...) to file contents.
	Resources map[string][]byte
	// PropertySets maps set name -> key -> value (resources/properties/*.properties).
	PropertySets map[string]map[string]string

	manifest Pos // of the manifest's root element, if any
}

// Pos is a position in a file, 1-based. File is relative to the path the
// user gave.
type Pos struct {
	File      string
	Line, Col int
}

// Condition is the text of a <Condition> element, trimmed, with the
// position of its first non-blank character. Nil means "no condition"
// (always true); an empty or blank Condition element also loads as nil.
type Condition struct {
	Text string
	Pos  Pos
	// Raw is the element's source text, before unescaping and trimming;
	// PosAt uses it to map an offset inside Text back to the file.
	Raw    string
	rawPos Pos // where Raw starts in the file
}

// Step is a <Step> in a flow or fault rule.
type Step struct {
	Name      string
	Condition *Condition
	Pos       Pos
}

// Flow is a PreFlow, PostFlow, PostClientFlow or conditional Flow.
type Flow struct {
	Name        string
	Description string
	Condition   *Condition // only conditional Flows
	Request     []*Step
	Response    []*Step
	Pos         Pos
}

// FaultRule is a <FaultRule> or the <DefaultFaultRule>.
type FaultRule struct {
	Name          string
	Condition     *Condition
	Steps         []*Step
	AlwaysEnforce bool // DefaultFaultRule only
	Pos           Pos
}

// RouteRule is a <RouteRule> of a ProxyEndpoint. With neither TargetEndpoint
// nor URL it is a null route.
type RouteRule struct {
	Name           string
	Condition      *Condition
	TargetEndpoint string
	URL            string
	Pos            Pos
}

// Endpoint holds what ProxyEndpoints and TargetEndpoints share.
type Endpoint struct {
	Name             string
	Description      string
	File             string // relative display path of the endpoint's file
	Pos              Pos    // of the root element
	PreFlow          *Flow  // never nil after loading (may have no steps)
	Flows            []*Flow
	PostFlow         *Flow // never nil after loading
	FaultRules       []*FaultRule
	DefaultFaultRule *FaultRule
	Properties       []Property // HTTPProxyConnection / HTTPTargetConnection properties
}

// Property is a <Property name="...">value</Property>.
type Property struct {
	Name, Value string
	Pos         Pos
}

// ProxyEndpoint is a <ProxyEndpoint>.
type ProxyEndpoint struct {
	Endpoint
	BasePath       string // "/" when absent
	BasePathPos    Pos    // of the <BasePath> text, else of the endpoint
	VirtualHosts   []string
	PostClientFlow *Flow // nil when absent
	RouteRules     []*RouteRule
}

// TargetEndpoint is a <TargetEndpoint>.
type TargetEndpoint struct {
	Endpoint
	HTTP  *HTTPTargetConnection  // nil when the endpoint has none
	Local *LocalTargetConnection // nil when the endpoint has none
	// Element is the root element, for builders that read more of it.
	Element *etree.Element
	Doc     *Doc
}

// HTTPTargetConnection is a TargetEndpoint's (or ServiceCallout's) connection.
type HTTPTargetConnection struct {
	URL           string // may be a message template
	URLPos        Pos
	Path          string // with a LoadBalancer; may be a template
	LoadBalancer  *etree.Element
	SSLInfo       *etree.Element
	HealthMonitor *etree.Element
	Properties    []Property
	Pos           Pos
}

// LocalTargetConnection is proxy chaining.
type LocalTargetConnection struct {
	APIProxy      string
	ProxyEndpoint string
	Path          string
	Pos           Pos
}

// SharedFlow is a <SharedFlow> of a shared flow bundle.
type SharedFlow struct {
	Name  string
	Steps []*Step
	File  string
	Pos   Pos
}

// Policy is one policy file. Builders in package policy read Element.
type Policy struct {
	Name            string
	Type            string // root element name: "AssignMessage", "Javascript", ...
	Enabled         bool   // enabled attribute, default true
	ContinueOnError bool   // continueOnError attribute, default false
	DisplayName     string
	File            string
	Pos             Pos
	Element         *etree.Element
	Doc             *Doc // positions of Element and its descendants
}
