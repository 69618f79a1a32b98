package policy

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/beevik/etree"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/exchange"
	"github.com/apigo/apigo/policy/template"
	"github.com/apigo/apigo/store"
)

func init() { Register("KeyValueMapOperations", "keyvaluemap", buildKVM) }

// DefaultKVMExpiry is ExpiryTimeInSecs when absent (reference 8.6).
const DefaultKVMExpiry = 300 * time.Second

// KeyValueMapOperations is a built <KeyValueMapOperations> policy. Its Get,
// Put and Delete operations run in document order against the map named by
// mapIdentifier or <MapName> (text or ref) in its <Scope>.
//
// Keys are the <Parameter>s of <Key> (literal or ref) joined with "__". [?]
// A key whose ref is unset skips the operation (a Get assigns nothing). A
// Get of a missing key leaves assignTo unset; X stores one value per key,
// so index="1" (or none) reads it and a higher index reads nothing. A Put
// takes the first <Value> that resolves and skips when none does.
//
// Reads go through a cache shared by every KVM policy of the same store,
// for ExpiryTimeInSecs (-1: no cache): a Put or Delete through apigo
// updates it at once, but a change made by another apigo instance sharing a
// Redis store is seen when the cached value expires, as on Apigee's message
// processors. Values are never logged.
type KeyValueMapOperations struct {
	Name string
	// MapName is mapIdentifier or <MapName> text; MapRef is <MapName ref>,
	// read first.
	MapName, MapRef string
	// Scope is organization, environment (the default), apiproxy or policy.
	Scope string
	// Expiry is ExpiryTimeInSecs; negative disables the read cache.
	Expiry time.Duration
	// InitialEntries are put (without override) before the first
	// operation on each map.
	InitialEntries []KVMInitialEntry

	ops    []kvmOp
	store  store.Store
	now    func() time.Time
	seeded sync.Map // mapID -> struct{}
	cache  *kvmReadCache
	closed sync.Once
}

// KVMInitialEntry is one <InitialEntries>/<Entry>.
type KVMInitialEntry struct{ Key, Value string }

type kvmOpKind int

const (
	kvmGet kvmOpKind = iota
	kvmPut
	kvmDelete
)

// kvmOp is one Get, Put or Delete.
type kvmOp struct {
	kind     kvmOpKind
	key      []kvmParam
	values   []kvmParam // Put
	assignTo string     // Get
	index    int        // Get, 1-based
	override bool       // Put
}

// kvmParam is a literal or a variable reference.
type kvmParam struct{ ref, literal string }

func buildKVM(bc *BuildContext, p *bundle.Policy) Policy {
	before := countErrors(bc.Problems)
	k := &KeyValueMapOperations{Name: p.Name, Scope: "environment", Expiry: DefaultKVMExpiry,
		MapName: strings.TrimSpace(p.Element.SelectAttrValue("mapIdentifier", "")), store: bc.Store, now: bc.Now}
	for _, el := range p.Element.ChildElements() {
		k.child(bc, p, el)
	}
	if k.MapName == "" && k.MapRef == "" {
		bc.Problems.Errorf(p.Doc.Pos(p.Element), "<KeyValueMapOperations> %q needs mapIdentifier or <MapName>", p.Name)
	}
	if bc.Store == nil {
		bc.Problems.Errorf(p.Doc.Pos(p.Element), "<KeyValueMapOperations> %q: no store", p.Name)
	}
	if countErrors(bc.Problems) > before {
		return nil
	}
	k.cache = acquireKVMCache(bc.Store)
	return k
}

// Close releases the policy's hold on its store's read cache (the engine
// calls it on shutdown); the cache goes when no policy holds it.
func (k *KeyValueMapOperations) Close() {
	k.closed.Do(func() { releaseKVMCache(k.store) })
}

func (k *KeyValueMapOperations) child(bc *BuildContext, p *bundle.Policy, el *etree.Element) {
	text := strings.TrimSpace(el.Text())
	switch el.Tag {
	case "MapName":
		if k.MapName != "" {
			bc.Problems.Errorf(p.Doc.Pos(el), "use mapIdentifier or <MapName>, not both")
		}
		k.MapName, k.MapRef = text, strings.TrimSpace(el.SelectAttrValue("ref", ""))
	case "Scope":
		switch s := strings.ToLower(text); s {
		case "organization", "environment", "apiproxy", "policy":
			k.Scope = s
		default:
			bc.Problems.Errorf(p.Doc.TextPos(el), "<Scope> %q is not organization, environment, apiproxy or policy", text)
		}
	case "ExpiryTimeInSecs":
		n, err := strconv.Atoi(text)
		if err != nil || n < -1 {
			bc.Problems.Errorf(p.Doc.TextPos(el), "<ExpiryTimeInSecs> %q is not a number of seconds or -1", text)
		}
		k.Expiry = time.Duration(n) * time.Second
		if n < 0 {
			k.Expiry = -1
		}
	case "ExclusiveCache":
		bc.Problems.Warnf(p.Doc.Pos(el), "<ExclusiveCache> is deprecated and ignored")
	case "InitialEntries":
		k.compileInitial(bc, p, el)
	case "Get", "Put", "Delete":
		if op, ok := compileKVMOp(bc, p, el); ok {
			k.ops = append(k.ops, op)
		}
	case "DisplayName", "Description", "Properties", "FaultRules":
	default:
		bc.Problems.Warnf(p.Doc.Pos(el), "unknown element <%s> in <KeyValueMapOperations>, ignored", el.Tag)
	}
}

func (k *KeyValueMapOperations) compileInitial(bc *BuildContext, p *bundle.Policy, el *etree.Element) {
	for _, e := range el.SelectElements("Entry") {
		key := compileKVMParams(bc, p, e.SelectElement("Key"), "Parameter")
		vals := compileKVMParams(bc, p, e, "Value")
		if len(key) == 0 || len(vals) == 0 {
			bc.Problems.Errorf(p.Doc.Pos(e), "<Entry> needs a <Key> and a <Value>")
			continue
		}
		parts := make([]string, len(key))
		for i, kp := range key {
			if kp.ref != "" {
				bc.Problems.Errorf(p.Doc.Pos(e), "<InitialEntries> keys must be literal")
			}
			parts[i] = kp.literal
		}
		k.InitialEntries = append(k.InitialEntries, KVMInitialEntry{Key: strings.Join(parts, "__"), Value: vals[0].literal})
	}
}

func compileKVMOp(bc *BuildContext, p *bundle.Policy, el *etree.Element) (kvmOp, bool) {
	op := kvmOp{key: compileKVMParams(bc, p, el.SelectElement("Key"), "Parameter"), index: 1}
	if len(op.key) == 0 {
		bc.Problems.Errorf(p.Doc.Pos(el), "<%s> needs a <Key> with at least one <Parameter>", el.Tag)
		return op, false
	}
	switch el.Tag {
	case "Get":
		op.kind = kvmGet
		op.assignTo = strings.TrimSpace(el.SelectAttrValue("assignTo", ""))
		if op.assignTo == "" {
			bc.Problems.Errorf(p.Doc.Pos(el), "<Get> needs assignTo")
			return op, false
		}
		if s := el.SelectAttrValue("index", ""); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 {
				bc.Problems.Errorf(p.Doc.Pos(el), "<Get> index=%q is not a positive number", s)
				return op, false
			}
			op.index = n
		}
	case "Put":
		op.kind = kvmPut
		if a := el.SelectAttr("override"); a != nil {
			op.override = parseBoolAttr(bc, p, el, a)
		}
		op.values = compileKVMParams(bc, p, el, "Value")
		if len(op.values) == 0 {
			bc.Problems.Errorf(p.Doc.Pos(el), "<Put> needs a <Value>")
			return op, false
		}
	case "Delete":
		op.kind = kvmDelete
	}
	return op, true
}

// compileKVMParams reads el's children named tag as literals or refs.
func compileKVMParams(bc *BuildContext, p *bundle.Policy, el *etree.Element, tag string) []kvmParam {
	if el == nil {
		return nil
	}
	var out []kvmParam
	for _, ch := range el.SelectElements(tag) {
		kp := kvmParam{ref: strings.TrimSpace(ch.SelectAttrValue("ref", "")), literal: strings.TrimSpace(ch.Text())}
		if kp.ref == "" && kp.literal == "" {
			bc.Problems.Warnf(p.Doc.Pos(ch), "empty <%s>", tag)
		}
		out = append(out, kp)
	}
	return out
}

// Execute runs the operations in order.
func (k *KeyValueMapOperations) Execute(ctx context.Context, x *exchange.Exchange) error {
	mapID, err := k.mapID(x)
	if err != nil {
		return err
	}
	if err := k.seed(ctx, mapID); err != nil {
		return k.storeFault(err)
	}
	for i := range k.ops {
		if err := k.run(ctx, x, mapID, &k.ops[i]); err != nil {
			return err
		}
	}
	return nil
}

func (k *KeyValueMapOperations) mapID(x *exchange.Exchange) (string, error) {
	name := k.MapName
	if k.MapRef != "" {
		if v, ok := x.Lookup(k.MapRef); ok {
			name = template.Format(v)
		}
	}
	if name == "" {
		return "", &Fault{Name: "UnsupportedOperationException", Code: "steps.keyvaluemapoperations.UnsupportedOperationException",
			FaultString: fmt.Sprintf("%s: the map identifier is empty", k.Name), Status: 500, Source: "policy", Policy: k.Name}
	}
	str := func(n string) string { s, _ := x.GetString(n); return s }
	return KVMMapID(k.Scope, str("organization.name"), str("environment.name"), str("apiproxy.name"), k.Name, name), nil
}

func (k *KeyValueMapOperations) seed(ctx context.Context, mapID string) error {
	if len(k.InitialEntries) == 0 {
		return nil
	}
	if _, done := k.seeded.Load(mapID); done {
		return nil
	}
	for _, e := range k.InitialEntries {
		if _, err := k.store.KVMPut(ctx, mapID, e.Key, e.Value, false); err != nil {
			return err
		}
	}
	k.seeded.Store(mapID, struct{}{})
	return nil
}

func (k *KeyValueMapOperations) run(ctx context.Context, x *exchange.Exchange, mapID string, op *kvmOp) error {
	key, ok := kvmResolve(x, op.key, "__")
	if !ok {
		return nil
	}
	cache := k.cache
	switch op.kind {
	case kvmGet:
		v, found, err := cache.get(ctx, k.store, mapID, key, k.Expiry, k.now())
		if err != nil {
			return k.storeFault(err)
		}
		if !found || op.index != 1 {
			return nil
		}
		if err := x.Set(op.assignTo, v); err != nil {
			return &Fault{Name: "SetVariableFailed", Code: "steps.keyvaluemapoperations.SetVariableFailed",
				FaultString: fmt.Sprintf("Unable to set variable %s", op.assignTo), Status: 500, Source: "policy", Policy: k.Name, Cause: err}
		}
	case kvmPut:
		v, ok := kvmFirst(x, op.values)
		if !ok {
			return nil
		}
		cache.forget(mapID, key)
		if _, err := k.store.KVMPut(ctx, mapID, key, v, op.override); err != nil {
			return k.storeFault(err)
		}
	case kvmDelete:
		cache.forget(mapID, key)
		if err := k.store.KVMDelete(ctx, mapID, key); err != nil {
			return k.storeFault(err)
		}
	}
	return nil
}

func (k *KeyValueMapOperations) storeFault(err error) *Fault {
	return &Fault{Name: "ExecutionFailed", Code: "steps.keyvaluemapoperations.ExecutionFailed",
		FaultString: fmt.Sprintf("Execution of KeyValueMapOperations %s failed: key value map store unavailable", k.Name),
		Status:      500, Source: "policy", Policy: k.Name, Cause: err}
}

// kvmResolve joins params with sep; ok is false when a ref is unset.
func kvmResolve(x *exchange.Exchange, ps []kvmParam, sep string) (string, bool) {
	parts := make([]string, len(ps))
	for i, p := range ps {
		if p.ref == "" {
			parts[i] = p.literal
			continue
		}
		v, ok := x.Lookup(p.ref)
		if !ok {
			return "", false
		}
		parts[i] = template.Format(v)
	}
	return strings.Join(parts, sep), true
}

// kvmFirst is the first value that resolves.
func kvmFirst(x *exchange.Exchange, ps []kvmParam) (string, bool) {
	for _, p := range ps {
		if p.ref == "" {
			return p.literal, true
		}
		if v, ok := x.Lookup(p.ref); ok {
			return template.Format(v), true
		}
	}
	return "", false
}

// KVMMapID is the store identifier of a key value map: scope/owner/name,
// where the owner is the organization for scope "organization",
// "org:env" for "environment", "org:proxy" for "apiproxy" and
// "org:proxy:policy" for "policy". Any other scope is "environment".
// SeedKVMs and KeyValueMapOperations both use it, so seeded entries are
// what the policies read.
func KVMMapID(scope, org, env, proxy, policy, name string) string {
	switch strings.ToLower(scope) {
	case "organization":
		return "organization/" + org + "/" + name
	case "apiproxy":
		return "apiproxy/" + org + ":" + proxy + "/" + name
	case "policy":
		return "policy/" + org + ":" + proxy + ":" + policy + "/" + name
	}
	return "environment/" + org + ":" + env + "/" + name
}

// kvmReadCache is the read-through cache of every KVM policy using one
// store (Apigee's message-processor cache).
type kvmReadCache struct {
	mu   sync.Mutex
	m    map[[2]string]kvmCached
	refs int // guarded by kvmCachesMu
}

type kvmCached struct {
	value   string
	found   bool
	expires time.Time
}

var (
	kvmCachesMu sync.Mutex
	kvmCaches   = map[store.Store]*kvmReadCache{} // held by the KVM policies built on the store
)

// acquireKVMCache returns st's read cache, creating it; nil (no caching)
// for a store that cannot be a map key.
func acquireKVMCache(st store.Store) *kvmReadCache {
	if t := reflect.TypeOf(st); t == nil || !t.Comparable() {
		return nil
	}
	kvmCachesMu.Lock()
	defer kvmCachesMu.Unlock()
	c := kvmCaches[st]
	if c == nil {
		c = &kvmReadCache{m: map[[2]string]kvmCached{}}
		kvmCaches[st] = c
	}
	c.refs++
	return c
}

func releaseKVMCache(st store.Store) {
	if t := reflect.TypeOf(st); t == nil || !t.Comparable() {
		return
	}
	kvmCachesMu.Lock()
	defer kvmCachesMu.Unlock()
	if c := kvmCaches[st]; c != nil {
		if c.refs--; c.refs <= 0 {
			delete(kvmCaches, st)
		}
	}
}

// existingKVMCache is st's read cache if a policy holds one, else nil.
func existingKVMCache(st store.Store) *kvmReadCache {
	if t := reflect.TypeOf(st); t == nil || !t.Comparable() {
		return nil
	}
	kvmCachesMu.Lock()
	defer kvmCachesMu.Unlock()
	return kvmCaches[st]
}

func (c *kvmReadCache) get(ctx context.Context, st store.Store, mapID, key string, ttl time.Duration, now time.Time) (string, bool, error) {
	if c == nil || ttl <= 0 {
		return st.KVMGet(ctx, mapID, key)
	}
	k := [2]string{mapID, key}
	c.mu.Lock()
	e, ok := c.m[k]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.value, e.found, nil
	}
	v, found, err := st.KVMGet(ctx, mapID, key)
	if err != nil {
		return "", false, err
	}
	c.mu.Lock()
	c.m[k] = kvmCached{value: v, found: found, expires: now.Add(ttl)}
	c.mu.Unlock()
	return v, found, nil
}

func (c *kvmReadCache) forget(mapID, key string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	delete(c.m, [2]string{mapID, key})
	c.mu.Unlock()
}

// forgetMap drops every cached entry of a map (after seeding).
func (c *kvmReadCache) forgetMap(mapID string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	for k := range c.m {
		if k[0] == mapID {
			delete(c.m, k)
		}
	}
	c.mu.Unlock()
}

// SeedKVMs loads key value map entries into st: the test data's maps.json
// (data.KVMs) and the environment folder's kvms.json (env.Files, the same
// format). Entries overwrite what st holds, so every start begins from the
// test data. [?] Environment-scoped maps go to env.Name whatever their
// "environment" field says (apigo runs one environment); pass the
// environment under the name the engine uses ("local" when env is nil or
// unnamed). An apiproxy-scoped map without a proxy name is an error.
func SeedKVMs(ctx context.Context, st store.Store, data *bundle.Data, env *bundle.Environment, org string) error {
	var maps []*bundle.KVM
	if data != nil {
		maps = append(maps, data.KVMs...)
	}
	envName := "local"
	if env != nil {
		if env.Name != "" {
			envName = env.Name
		}
		if raw := env.Files["kvms.json"]; len(raw) > 0 {
			more, err := parseKVMsJSON(raw)
			if err != nil {
				return fmt.Errorf("%s: %w", kvmsJSONPath(env), err)
			}
			maps = append(maps, more...)
		}
	}
	cache := existingKVMCache(st)
	for _, m := range maps {
		if strings.EqualFold(m.Scope, "apiproxy") && m.APIProxy == "" {
			return fmt.Errorf("%s: key value map %q has scope apiproxy but names no apiproxy", m.Pos, m.Name)
		}
		id := KVMMapID(m.Scope, org, envName, m.APIProxy, "", m.Name)
		for _, e := range m.Entries {
			if _, err := st.KVMPut(ctx, id, e.Name, e.Value, true); err != nil {
				return fmt.Errorf("seeding key value map %q: %w", m.Name, err)
			}
		}
		cache.forgetMap(id)
	}
	return nil
}

func kvmsJSONPath(env *bundle.Environment) string {
	if env.Dir == "" {
		return "kvms.json"
	}
	return strings.TrimSuffix(env.Dir, "/") + "/kvms.json"
}

// parseKVMsJSON reads kvms.json: a list of maps whose entries are an
// object or a list of {name, value}.
func parseKVMsJSON(raw []byte) ([]*bundle.KVM, error) {
	var list []struct {
		Name        string          `json:"name"`
		Scope       string          `json:"scope"`
		Environment string          `json:"environment"`
		APIProxy    string          `json:"apiproxy"`
		Proxy       string          `json:"proxy"`
		Entries     json.RawMessage `json:"entries"`
	}
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, err
	}
	out := make([]*bundle.KVM, 0, len(list))
	for i, m := range list {
		if m.Name == "" {
			return nil, fmt.Errorf("key value map %d has no name", i+1)
		}
		k := &bundle.KVM{Name: m.Name, Scope: cacheOr(m.Scope, "environment"), Environment: m.Environment, APIProxy: cacheOr(m.APIProxy, m.Proxy)}
		entries, err := parseKVMEntries(m.Entries)
		if err != nil {
			return nil, fmt.Errorf("key value map %q: %w", m.Name, err)
		}
		k.Entries = entries
		out = append(out, k)
	}
	return out, nil
}

func parseKVMEntries(raw json.RawMessage) ([]bundle.KVMEntry, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var list []struct{ Name, Value string }
	if err := json.Unmarshal(raw, &list); err == nil {
		out := make([]bundle.KVMEntry, len(list))
		for i, e := range list {
			out[i] = bundle.KVMEntry{Name: e.Name, Value: e.Value}
		}
		return out, nil
	}
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, fmt.Errorf("entries must be an object or a list of {name, value}")
	}
	out := make([]bundle.KVMEntry, 0, len(obj))
	for k, v := range obj {
		s, ok := v.(string)
		if !ok {
			b, _ := json.Marshal(v)
			s = string(b)
		}
		out = append(out, bundle.KVMEntry{Name: k, Value: s})
	}
	return out, nil
}
