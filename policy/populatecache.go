package policy

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/exchange"
	"github.com/apigo/apigo/policy/template"
	"github.com/apigo/apigo/store"
)

func init() { Register("PopulateCache", "populatecache", buildPopulateCache) }

// PopulateCache is a built <PopulateCache> policy: it stores the value of
// the <Source> variable under its key for its ExpirySettings. An unset
// source stores nothing. A store failure is Apigee's 500
// steps.cache.EntryCannotBeCached.
type PopulateCache struct {
	Name   string
	Key    CacheKey
	Expiry ExpirySettings
	Source string

	store store.Store
	now   func() time.Time
}

func buildPopulateCache(bc *BuildContext, p *bundle.Policy) Policy {
	before := countErrors(bc.Problems)
	pc := &PopulateCache{Name: p.Name, Key: CacheKey{Scope: "Exclusive"}, store: bc.Store, now: bc.Now}
	for _, el := range p.Element.ChildElements() {
		if pc.Key.compile(bc, p, el) {
			continue
		}
		switch el.Tag {
		case "Source":
			pc.Source = strings.TrimSpace(el.Text())
		case "ExpirySettings":
			pc.Expiry = compileExpiry(bc, p, el)
		case "DisplayName", "Description", "Properties", "FaultRules":
		default:
			bc.Problems.Warnf(p.Doc.Pos(el), "unknown element <%s> in <PopulateCache>, ignored", el.Tag)
		}
	}
	if pc.Source == "" {
		bc.Problems.Errorf(p.Doc.Pos(p.Element), "<PopulateCache> %q needs <Source>", p.Name)
	}
	if bc.Store == nil {
		bc.Problems.Errorf(p.Doc.Pos(p.Element), "<PopulateCache> %q: no store to write to", p.Name)
	}
	if countErrors(bc.Problems) > before {
		return nil
	}
	return pc
}

// Execute writes the entry.
func (pc *PopulateCache) Execute(ctx context.Context, x *exchange.Exchange) error {
	v, ok := x.Lookup(pc.Source)
	if !ok {
		return nil
	}
	ttl := pc.Expiry.TTL(x, pc.now())
	if ttl <= 0 {
		return nil // already expired
	}
	var val string
	if m, isMsg := v.(*exchange.Message); isMsg {
		if err := m.Materialize(); err == nil {
			val = string(m.Body)
		}
	} else {
		val = template.Format(v)
	}
	if err := pc.store.Set(ctx, pc.Key.StoreKey(x, pc.Key.Key(x)), []byte(val), ttl); err != nil {
		return &Fault{Name: "EntryCannotBeCached", Code: "steps.cache.EntryCannotBeCached",
			FaultString: fmt.Sprintf("Entry cannot be cached by %s", pc.Name), Status: 500, Source: "policy", Policy: pc.Name, Cause: err}
	}
	return nil
}
