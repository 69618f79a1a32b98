// Package apiproduct is the local registry of developers, developer apps,
// credentials and API products that VerifyAPIKey and OAuthV2 consult. It is
// built once from test data in the Apigee Emulator's format (bundle.Data:
// products.json, developers.json, developerapps.json) and is immutable and
// safe for concurrent use afterwards.
//
// Apps may pin their credentials (consumerKey, consumerSecret, per-product
// status). An app without any gets one generated credential, as the
// emulator does: a random 32-character consumer key and 16-character
// secret, approved for every product the app lists (pending for a product
// whose approvalType is "manual"). Credentials lists them so the command can
// print them at start.
package apiproduct

import (
	"crypto/rand"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/apigo/apigo/bundle"
)

// Registry holds the developers, apps, credentials and products of one
// bundle.Data.
type Registry struct {
	products   map[string]*Product
	developers map[string]*Developer // by lower-cased email
	apps       []*App
	appsByID   map[string]*App
	byKey      map[string]*Credential
}

// Developer is a developer of developers.json.
type Developer struct {
	ID, Email, UserName, FirstName, LastName string
	// Status is "active" (developers.json carries no status in the
	// emulator's format). A test may set it before serving: the registry
	// is read-only once requests run.
	Status     string
	Attributes []bundle.Attribute
}

// App is a developer app.
type App struct {
	ID, Name, DisplayName, CallbackURL string
	Status                             string // "approved" unless the data says otherwise
	Scopes                             []string
	Attributes                         []bundle.Attribute
	// Developer is never nil: an app naming a developer the data does not
	// define gets a stand-in with just the email.
	Developer   *Developer
	Credentials []*Credential
}

// Credential is one key pair of an app.
type Credential struct {
	ConsumerKey, ConsumerSecret string
	Status                      string // "approved", "revoked", "pending"
	IssuedAt                    int64  // epoch ms
	ExpiresAt                   int64  // epoch ms; -1 or 0 = never
	Products                    []Approval
	Scopes                      []string
	Attributes                  []bundle.Attribute
	App                         *App
	// Generated reports that apigo made the key pair (the data pinned
	// none).
	Generated bool
}

// Approval is a credential's approval for one product. Product is nil when
// the data names a product it does not define (the approval then never
// matches).
type Approval struct {
	Name, Status string
	Product      *Product
}

var registries sync.Map // *bundle.Data -> *Registry

// For returns the registry of d, building it on first use. Every caller
// with the same *bundle.Data gets the same registry, so the credentials
// generated for it are the ones Credentials lists, whichever of the engine,
// the policies or the command asks first. A nil d gives an empty registry.
func For(d *bundle.Data) *Registry {
	if d == nil {
		return New(nil)
	}
	if r, ok := registries.Load(d); ok {
		return r.(*Registry)
	}
	r, _ := registries.LoadOrStore(d, New(d))
	return r.(*Registry)
}

// New builds a registry from d (nil gives an empty one). It generates a
// credential for every app that pins none; each call generates new ones,
// so share the result (or use For).
func New(d *bundle.Data) *Registry {
	r := &Registry{products: map[string]*Product{}, developers: map[string]*Developer{},
		appsByID: map[string]*App{}, byKey: map[string]*Credential{}}
	if d == nil {
		return r
	}
	for _, p := range d.Products {
		r.products[p.Name] = newProduct(p)
	}
	for _, dv := range d.Developers {
		r.developers[strings.ToLower(dv.Email)] = &Developer{ID: newUUID(), Email: dv.Email, UserName: dv.UserName,
			FirstName: dv.FirstName, LastName: dv.LastName, Status: firstNonEmpty(dv.Status, "active"), Attributes: dv.Attributes}
	}
	for _, a := range d.Apps {
		r.addApp(a)
	}
	return r
}

func (r *Registry) addApp(a *bundle.DeveloperApp) {
	app := &App{ID: a.AppID, Name: a.Name, DisplayName: a.DisplayName, CallbackURL: a.CallbackURL,
		Status: orDefault(a.Status, "approved"), Scopes: a.Scopes, Attributes: a.Attributes}
	if app.ID == "" {
		app.ID = newUUID()
	}
	app.Developer = r.developers[strings.ToLower(a.DeveloperEmail)]
	if app.Developer == nil {
		app.Developer = &Developer{ID: newUUID(), Email: a.DeveloperEmail, Status: "active"}
	}
	for _, c := range a.Credentials {
		cred := &Credential{ConsumerKey: c.ConsumerKey, ConsumerSecret: c.ConsumerSecret,
			Status: orDefault(c.Status, "approved"), IssuedAt: c.IssuedAt, ExpiresAt: c.ExpiresAt,
			Scopes: c.Scopes, Attributes: c.Attributes, App: app}
		for _, cp := range c.APIProducts {
			cred.Products = append(cred.Products, Approval{Name: cp.APIProduct, Status: orDefault(cp.Status, "approved"), Product: r.products[cp.APIProduct]})
		}
		app.Credentials = append(app.Credentials, cred)
	}
	if len(app.Credentials) == 0 {
		app.Credentials = append(app.Credentials, r.generate(app, a.APIProducts))
	}
	for _, c := range app.Credentials {
		// A key listed twice keeps its first app, as a later one could
		// never be reached.
		if _, dup := r.byKey[c.ConsumerKey]; !dup {
			r.byKey[c.ConsumerKey] = c
		}
	}
	r.apps = append(r.apps, app)
	r.appsByID[app.ID] = app
}

// generate makes the emulator's credential for an app that pins none.
func (r *Registry) generate(app *App, products []string) *Credential {
	c := &Credential{ConsumerKey: randomString(32), ConsumerSecret: randomString(16), Status: "approved",
		IssuedAt: time.Now().UnixMilli(), ExpiresAt: -1, App: app, Generated: true}
	for _, name := range products {
		p := r.products[name]
		status := "approved"
		if p != nil && strings.EqualFold(p.ApprovalType, "manual") {
			status = "pending"
		}
		c.Products = append(c.Products, Approval{Name: name, Status: status, Product: p})
	}
	return c
}

// Credential returns the credential whose consumer key is key.
func (r *Registry) Credential(key string) (*Credential, bool) {
	c, ok := r.byKey[key]
	return c, ok
}

// Product returns a product by name, nil when undefined.
func (r *Registry) Product(name string) *Product { return r.products[name] }

// Developer returns a developer by email (any case), nil when undefined.
func (r *Registry) Developer(email string) *Developer {
	return r.developers[strings.ToLower(email)]
}

// App returns an app by its ID, nil when undefined.
func (r *Registry) App(id string) *App { return r.appsByID[id] }

// Apps lists the apps in data order.
func (r *Registry) Apps() []*App { return r.apps }

// Listing is one credential as printed at start.
type Listing struct {
	Developer, App              string
	ConsumerKey, ConsumerSecret string
	Products                    []string
	Generated                   bool
}

// String is "app (developer): key / secret [products]"; it shows the
// secret, so it is for the console at start, never for logs or traces.
func (l Listing) String() string {
	gen := ""
	if l.Generated {
		gen = " (generated)"
	}
	return fmt.Sprintf("%s (%s): key %s secret %s products [%s]%s", l.App, l.Developer, l.ConsumerKey,
		l.ConsumerSecret, strings.Join(l.Products, ", "), gen)
}

// Credentials lists every credential, sorted by app then key, for the
// command to print at start (generated keys are random, so the user needs
// them to call a protected proxy).
func (r *Registry) Credentials() []Listing {
	var out []Listing
	for _, a := range r.apps {
		for _, c := range a.Credentials {
			l := Listing{Developer: a.Developer.Email, App: a.Name, ConsumerKey: c.ConsumerKey,
				ConsumerSecret: c.ConsumerSecret, Generated: c.Generated}
			for _, p := range c.Products {
				l.Products = append(l.Products, p.Name)
			}
			out = append(out, l)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].App != out[j].App {
			return out[i].App < out[j].App
		}
		return out[i].ConsumerKey < out[j].ConsumerKey
	})
	return out
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

const alphanumeric = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomString returns n random alphanumeric characters (crypto/rand; a
// byte is redrawn when it would bias the draw).
func randomString(n int) string {
	out := make([]byte, 0, n)
	buf := make([]byte, n*2)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			panic("apiproduct: crypto/rand failed: " + err.Error())
		}
		for _, b := range buf {
			if int(b) < 256-256%len(alphanumeric) && len(out) < n {
				out = append(out, alphanumeric[int(b)%len(alphanumeric)])
			}
		}
	}
	return string(out)
}

// RandomString returns n random characters from [A-Za-z0-9], the alphabet
// of Apigee's keys and tokens.
func RandomString(n int) string { return randomString(n) }

func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("apiproduct: crypto/rand failed: " + err.Error())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
