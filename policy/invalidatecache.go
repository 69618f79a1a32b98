package policy

import (
	"context"
	"log"
	"strings"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/exchange"
	"github.com/apigo/apigo/store"
)

func init() { Register("InvalidateCache", "invalidatecache", buildInvalidateCache) }

// InvalidateCache is a built <InvalidateCache> policy: it removes the entry
// with its key and, with PurgeChildEntries, every entry whose key extends
// it by more fragments ("<key>__..."). <CacheContext> names the API proxy,
// proxy endpoint and target endpoint that wrote the entries, for scopes
// that include them. [?] A store that cannot be reached is logged, not a
// fault.
type InvalidateCache struct {
	Name              string
	Key               CacheKey
	PurgeChildEntries bool

	store store.Store
}

func buildInvalidateCache(bc *BuildContext, p *bundle.Policy) Policy {
	before := countErrors(bc.Problems)
	ic := &InvalidateCache{Name: p.Name, Key: CacheKey{Scope: "Exclusive"}, store: bc.Store}
	for _, el := range p.Element.ChildElements() {
		if ic.Key.compile(bc, p, el) {
			continue
		}
		switch el.Tag {
		case "PurgeChildEntries":
			ic.PurgeChildEntries = boolText(bc, p.Doc, el)
		case "CacheContext":
			for _, ch := range el.ChildElements() {
				v := strings.TrimSpace(ch.Text())
				switch ch.Tag {
				case "APIProxyName":
					ic.Key.Context.APIProxyName = v
				case "ProxyName":
					ic.Key.Context.ProxyName = v
				case "TargetName":
					ic.Key.Context.TargetName = v
				default:
					bc.Problems.Warnf(p.Doc.Pos(ch), "unknown element <%s> in <CacheContext>, ignored", ch.Tag)
				}
			}
		case "DisplayName", "Description", "Properties", "FaultRules":
		default:
			bc.Problems.Warnf(p.Doc.Pos(el), "unknown element <%s> in <InvalidateCache>, ignored", el.Tag)
		}
	}
	if bc.Store == nil {
		bc.Problems.Errorf(p.Doc.Pos(p.Element), "<InvalidateCache> %q: no store", p.Name)
	}
	if countErrors(bc.Problems) > before {
		return nil
	}
	return ic
}

// Execute removes the entries.
func (ic *InvalidateCache) Execute(ctx context.Context, x *exchange.Exchange) error {
	sk := ic.Key.StoreKey(x, ic.Key.Key(x))
	err := ic.store.Delete(ctx, sk)
	if err == nil && ic.PurgeChildEntries {
		err = ic.store.DeletePrefix(ctx, sk+"__")
	}
	if err != nil {
		log.Printf("InvalidateCache %s: %v", ic.Name, err)
	}
	return nil
}
