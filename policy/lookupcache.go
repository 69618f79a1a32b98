package policy

import (
	"context"
	"log"
	"strings"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/exchange"
	"github.com/apigo/apigo/store"
)

func init() { Register("LookupCache", "lookupcache", buildLookupCache) }

// LookupCache is a built <LookupCache> policy: it reads the entry a
// PopulateCache with the same key and scope wrote into the <AssignTo>
// variable and sets lookupcache.<name>.cachehit. A miss leaves AssignTo
// untouched. [?] A store that cannot be reached is a miss, logged.
type LookupCache struct {
	Name     string
	Key      CacheKey
	AssignTo string

	store store.Store
	hit   string // lookupcache.<name>.cachehit
}

func buildLookupCache(bc *BuildContext, p *bundle.Policy) Policy {
	before := countErrors(bc.Problems)
	lc := &LookupCache{Name: p.Name, Key: CacheKey{Scope: "Exclusive"}, store: bc.Store, hit: "lookupcache." + p.Name + ".cachehit"}
	for _, el := range p.Element.ChildElements() {
		if lc.Key.compile(bc, p, el) {
			continue
		}
		switch el.Tag {
		case "AssignTo":
			lc.AssignTo = strings.TrimSpace(el.Text())
		case "CacheLookupTimeoutInSeconds", "DisplayName", "Description", "Properties", "FaultRules":
		default:
			bc.Problems.Warnf(p.Doc.Pos(el), "unknown element <%s> in <LookupCache>, ignored", el.Tag)
		}
	}
	if lc.AssignTo == "" {
		bc.Problems.Errorf(p.Doc.Pos(p.Element), "<LookupCache> %q needs <AssignTo>", p.Name)
	}
	if bc.Store == nil {
		bc.Problems.Errorf(p.Doc.Pos(p.Element), "<LookupCache> %q: no store to read from", p.Name)
	}
	if countErrors(bc.Problems) > before {
		return nil
	}
	return lc
}

// Execute reads the entry.
func (lc *LookupCache) Execute(ctx context.Context, x *exchange.Exchange) error {
	key := lc.Key.Key(x)
	v, ok, err := lc.store.Get(ctx, lc.Key.StoreKey(x, key))
	if err != nil {
		log.Printf("LookupCache %s: lookup failed, treated as a miss: %v", lc.Name, err)
	}
	_ = x.Set(lc.hit, ok)
	if !ok {
		return nil
	}
	if err := x.Set(lc.AssignTo, string(v)); err != nil {
		return &Fault{Name: "SetVariableFailed", Code: "steps.lookupcache.SetVariableFailed",
			FaultString: "Unable to set variable " + lc.AssignTo, Status: 500, Source: "policy", Policy: lc.Name, Cause: err}
	}
	return nil
}
