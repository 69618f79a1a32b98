// Package policy holds Apigee's policy types. Each type lives in its own file
// and registers a Builder under its XML root element name; the flow engine
// builds every policy of a bundle once at load and executes it per request.
package policy

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/exchange"
	"github.com/apigo/apigo/policy/httptarget"
	"github.com/apigo/apigo/store"
)

// Policy is a built, immutable, concurrency-safe policy.
type Policy interface {
	// Execute runs the policy against one exchange. A failure is returned as
	// a *Fault (other errors are wrapped into one by the engine).
	Execute(ctx context.Context, x *exchange.Exchange) error
}

// Builder compiles one policy element. It reports problems through bc and
// returns nil when the policy cannot be built.
type Builder func(bc *BuildContext, p *bundle.Policy) Policy

// BuildContext is what a Builder may use while compiling.
type BuildContext struct {
	Bundle   *bundle.Bundle
	Env      *bundle.Environment
	Problems *bundle.Problems
	// Options are run-time switches chosen by the user (see Options).
	Options *Options
	// Store keeps state between requests (quotas, caches, KVMs, tokens);
	// never nil when built by the engine (in memory by default).
	Store store.Store
	// Data is the test data given with --data (products, developers,
	// apps, KVM entries); never nil when built by the engine.
	Data *bundle.Data
	// SharedFlows names the shared flows deployed with this bundle.
	SharedFlows map[string]bool
}

// Now is the policies' clock: Options.Now, or time.Now.
func (bc *BuildContext) Now() time.Time {
	if bc.Options != nil && bc.Options.Now != nil {
		return bc.Options.Now()
	}
	return time.Now()
}

// ErrResponseReady, returned by a policy in a request flow, says the
// response message is complete (a ResponseCache hit, an answered CORS
// preflight): the engine skips the rest of the request path and the target
// call, and continues with the ProxyEndpoint's response flows.
var ErrResponseReady = errors.New("response ready")

// Options are user switches that change documented [?] behaviours.
type Options struct {
	// StrictTemplates makes an unresolved {ref} in a template a fault
	// (steps.<policy>.UnresolvedVariable) when IgnoreUnresolvedVariables is
	// false. Default false: unresolved references render as "" (Apigee X's
	// message-template reference).
	StrictTemplates bool
	// Target configures the HTTP connections policies open
	// (ServiceCallout): transport, --map-url, keystore folder, circuit
	// breaker choices. The zero value is usable.
	Target httptarget.Options
	// GoogleTokenCommand issues Google tokens for ServiceCallout
	// <Authentication> when APIGO_GOOGLE_ACCESS_TOKEN / APIGO_GOOGLE_ID_TOKEN
	// are unset: the program and its fixed arguments, split on spaces (no
	// shell), run with "access-token <scope>..." or "id-token <audience>
	// [--include-email]" appended; its trimmed output is the token. Default
	// "": no command, and such a callout faults naming the variable to set.
	GoogleTokenCommand string
	// Now is the clock of time-based policies (Quota windows, spike
	// arrest, cache expiry, token lifetimes); nil means time.Now. Tests
	// inject one instead of sleeping.
	Now func() time.Time
}

type registration struct {
	build  Builder
	prefix string
}

var (
	mu       sync.RWMutex
	registry = map[string]registration{}
)

// Register makes a policy type available under its XML root element name.
// prefix is the flow-variable prefix of its failure flag
// ("assignmessage" gives assignmessage.<name>.failed).
func Register(rootElement, prefix string, b Builder) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := registry[rootElement]; dup {
		panic("policy: duplicate registration of " + rootElement)
	}
	registry[rootElement] = registration{build: b, prefix: prefix}
}

// Lookup returns the builder and failure-flag prefix of a policy type.
func Lookup(rootElement string) (Builder, string, bool) {
	mu.RLock()
	defer mu.RUnlock()
	r, ok := registry[rootElement]
	return r.build, r.prefix, ok
}

// Registered lists the supported policy types, sorted.
func Registered() []string {
	mu.RLock()
	defer mu.RUnlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// IsKnownApigeeType reports whether name is a policy type Apigee has,
// whether or not apigo supports it yet.
func IsKnownApigeeType(name string) bool { return knownTypes[name] }

var knownTypes = map[string]bool{}

func init() {
	for _, n := range []string{
		"AccessControl", "AccessEntity", "AssertCondition", "AssignMessage", "BasicAuthentication",
		"ConcurrentRateLimit", "ConnectorCallout", "CORS", "DataCapture", "DecodeJWS", "DecodeJWT",
		"DeleteOAuthV1Info", "DeleteOAuthV2Info", "ExternalCallout", "ExtractVariables", "FlowCallout",
		"GenerateJWS", "GenerateJWT", "GetAPIProduct", "GetOAuthV1Info", "GetOAuthV2Info", "GraphQL",
		"HMAC", "HTTPModifier", "IntegrationCallout", "InvalidateCache", "JavaCallout", "Javascript",
		"JSONThreatProtection", "JSONToXML", "KeyValueMapOperations", "Ldap", "LLMTokenQuota",
		"LookupCache", "MessageLogging", "MessageValidation", "MonetizationLimitsCheck", "OASValidation",
		"OAuthV1", "OAuthV2", "PopulateCache", "PythonScript", "Quota", "RaiseFault",
		"RegularExpressionProtection", "ResetQuota", "ResponseCache", "RevokeOAuthV2", "SAMLAssertion",
		"GenerateSAMLAssertion", "ValidateSAMLAssertion", "ServiceCallout", "SetIntegrationRequest",
		"SetOAuthV2Info", "SpikeArrest", "StatisticsCollector", "TraceCapture", "VerifyAPIKey",
		"VerifyIAM", "VerifyJWS", "VerifyJWT", "XMLThreatProtection", "XMLToJSON", "XSL",
		"SanitizeUserPrompt", "SanitizeModelResponse", "SemanticCacheLookup", "SemanticCachePopulate",
		"PromptTokenLimit", "Script",
	} {
		knownTypes[n] = true
	}
}

// Fault is a run-time failure with Apigee's name, code and status. The flow
// engine routes it to FaultRules and renders the default JSON fault body.
type Fault struct {
	Name        string // fault.name, e.g. "RaiseFault", "InvalidApiKey"
	Code        string // detail.errorcode, e.g. "steps.raisefault.RaiseFault"
	FaultString string // faultstring
	Status      int    // HTTP status, 500 when zero
	Reason      string // optional detail.reason (X), e.g. "TARGET_READ_TIMEOUT"
	Source      string // "policy" or "target"
	Policy      string // name of the failing policy, "" for target faults
	// Response, when set, is the error response to start from instead of
	// the default JSON fault body (RaiseFault's FaultResponse, a target's
	// non-success response).
	Response *exchange.Message
	// Cause is the underlying error, if any.
	Cause error
	// NoFailureFlag stops the engine from setting <prefix>.<policy>.failed
	// (SpikeArrest sets it only on internal failures, never on a violation).
	NoFailureFlag bool
}

func (f *Fault) Error() string {
	if f.Cause != nil {
		return fmt.Sprintf("%s (%s): %s: %v", f.Name, f.Code, f.FaultString, f.Cause)
	}
	return fmt.Sprintf("%s (%s): %s", f.Name, f.Code, f.FaultString)
}

func (f *Fault) Unwrap() error { return f.Cause }

// HTTPStatus is Status, or 500 when unset.
func (f *Fault) HTTPStatus() int {
	if f.Status == 0 {
		return 500
	}
	return f.Status
}

// LocalDispatcher runs a request in process through another deployed proxy
// (ServiceCallout's LocalTargetConnection). The engine provides it in the
// context of every execution. apiProxy and endpoint may be empty, in which
// case path is matched against the deployed base paths; otherwise path is
// the path below the endpoint's base path. The request's query parameters,
// verb, headers and body are req's; DispatchLocal must not modify req.
type LocalDispatcher interface {
	DispatchLocal(ctx context.Context, apiProxy, endpoint, path string, req *exchange.Message) (*exchange.Message, error)
}

// SharedFlowRunner runs a deployed shared flow's steps inline on an
// exchange (FlowCallout). A fault inside is returned as is, so it reaches
// the caller's fault handling.
type SharedFlowRunner interface {
	RunSharedFlow(ctx context.Context, x *exchange.Exchange, name string) error
}

type engineKey struct{}

// WithEngine returns ctx carrying the engine's services: a LocalDispatcher
// and a SharedFlowRunner when e implements them. One context value serves
// both, so an execution pays for one.
func WithEngine(ctx context.Context, e any) context.Context {
	return context.WithValue(ctx, engineKey{}, e)
}

// WithLocalDispatcher returns ctx carrying d.
func WithLocalDispatcher(ctx context.Context, d LocalDispatcher) context.Context {
	return WithEngine(ctx, d)
}

// LocalDispatcherFrom returns the dispatcher ctx carries, nil when none.
func LocalDispatcherFrom(ctx context.Context) LocalDispatcher {
	d, _ := ctx.Value(engineKey{}).(LocalDispatcher)
	return d
}

// SharedFlowRunnerFrom returns the shared flow runner ctx carries, nil
// when none.
func SharedFlowRunnerFrom(ctx context.Context) SharedFlowRunner {
	r, _ := ctx.Value(engineKey{}).(SharedFlowRunner)
	return r
}

// finalizers touch the final response just before the engine writes it.
var finalizers []func(x *exchange.Exchange, m *exchange.Message)

// RegisterFinalizer adds f to what runs on every response just before it
// is written, error responses included (CORS adds its headers there). Call
// it from init.
func RegisterFinalizer(f func(x *exchange.Exchange, m *exchange.Message)) {
	finalizers = append(finalizers, f)
}

// Finalize runs the registered finalizers on the response about to be
// written.
func Finalize(x *exchange.Exchange, m *exchange.Message) {
	for _, f := range finalizers {
		f(x, m)
	}
}
