package bundle

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Data is test data in the Apigee Emulator's format: products.json,
// developers.json, developerapps.json and maps.json (a workspace's
// src/tests/<name>/ folder). Unknown fields are dropped.
type Data struct {
	Products   []*Product
	Developers []*Developer
	Apps       []*DeveloperApp
	KVMs       []*KVM
}

// Attribute is a custom {name, value} attribute.
type Attribute struct {
	Name, Value string
}

// Product is an API product.
type Product struct {
	Name, DisplayName, Description string
	ApprovalType                   string // "auto" when absent
	Attributes                     []Attribute
	APIResources                   []string
	Environments                   []string
	Proxies                        []string
	Scopes                         []string
	// Quota, QuotaInterval and QuotaTimeUnit are kept as written (they may
	// be templates); "" when absent.
	Quota, QuotaInterval, QuotaTimeUnit string
	OperationGroup                      *OperationGroup // nil when absent
	Pos                                 Pos
}

// OperationGroup is an Apigee X product's operationGroup.
type OperationGroup struct {
	OperationConfigType string // "proxy" or "remoteservice"
	OperationConfigs    []OperationConfig
}

// OperationConfig binds operations of one API source (a proxy name).
type OperationConfig struct {
	APISource  string
	Operations []Operation
	Quota      *OperationQuota
	Attributes []Attribute
}

// Operation is a resource path with its HTTP methods (none = all).
type Operation struct {
	Resource string
	Methods  []string
}

// OperationQuota is an operation config's quota.
type OperationQuota struct {
	Limit, Interval, TimeUnit string
}

// Developer is one entry of developers.json.
type Developer struct {
	Email, UserName, FirstName, LastName string
	// Status is "active" when absent (the emulator's format has none);
	// "inactive" makes VerifyAPIKey refuse the developer's keys.
	Status     string
	Attributes []Attribute
	Pos        Pos
}

// DeveloperApp is one entry of developerapps.json. Credentials are
// optional: the emulator generates them, tests may pin them.
type DeveloperApp struct {
	Name, DisplayName, DeveloperEmail, CallbackURL string
	AppID                                          string
	Status                                         string // "approved" when absent
	APIProducts                                    []string
	Scopes                                         []string
	ExpiryType                                     string
	Attributes                                     []Attribute
	Credentials                                    []*Credential
	Pos                                            Pos
}

// Credential is an app's key pair with its product approvals.
type Credential struct {
	ConsumerKey, ConsumerSecret string
	Status                      string // "approved" when absent
	APIProducts                 []CredentialProduct
	Scopes                      []string
	Attributes                  []Attribute
	IssuedAt                    int64
	ExpiresAt                   int64 // -1 = never (the default)
}

// CredentialProduct is a product approval of a credential.
type CredentialProduct struct {
	APIProduct string
	Status     string // "approved" when absent
}

// KVM is one key value map of maps.json.
type KVM struct {
	Name        string
	Scope       string // organization, environment (default) or apiproxy
	Environment string
	APIProxy    string // for scope apiproxy: "apiproxy", "proxy" or "apiProxy"
	Encrypted   bool
	Entries     []KVMEntry // in file order
	Pos         Pos
}

// KVMEntry is one name/value pair.
type KVMEntry struct {
	Name, Value string
	Pos         Pos
}

// LoadData reads test data from each path: a folder holding the emulator's
// json files (others are ignored), or one such file. Problems carry
// file:line:col of the entry they concern.
func LoadData(paths []string) (*Data, *Problems) {
	data, ps := &Data{}, &Problems{}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			ps.Errorf(Pos{File: p}, "cannot read: %v", unwrapPathError(err))
			continue
		}
		if !st.IsDir() {
			if !loadDataFile(data, p, ps) {
				ps.Errorf(Pos{File: p, Line: 1, Col: 1}, "unknown test data file (want products.json, developers.json, developerapps.json or maps.json)")
			}
			continue
		}
		entries, _ := os.ReadDir(p)
		names := make([]string, 0, len(entries))
		for _, e := range entries {
			names = append(names, e.Name())
		}
		sort.Strings(names)
		for _, n := range names {
			loadDataFile(data, filepath.Join(p, n), ps)
		}
	}
	checkData(data, ps)
	ps.Sort()
	return data, ps
}

// loadDataFile reads file if its name is a known one; false otherwise.
func loadDataFile(data *Data, file string, ps *Problems) bool {
	var read func(*jsonFile, *Data)
	switch strings.ToLower(filepath.Base(file)) {
	case "products.json", "apiproducts.json":
		read = readProducts
	case "developers.json":
		read = readDevelopers
	case "developerapps.json", "apps.json":
		read = readApps
	case "maps.json", "kvms.json":
		read = readKVMs
	default:
		return false
	}
	src, err := os.ReadFile(file)
	if err != nil {
		ps.Errorf(Pos{File: filepath.ToSlash(file), Line: 1, Col: 1}, "cannot read: %v", unwrapPathError(err))
		return true
	}
	j := newJSONFile(filepath.ToSlash(file), src, ps)
	if j.check() {
		read(j, data)
	}
	return true
}

// entries calls fn for each element of the file's top-level list.
func (j *jsonFile) entries(what string, fn func(raw []byte, off int)) {
	if !j.array(0, len(j.src), fn) {
		j.ps.Errorf(j.pos(j.valueStart(0)), "%s must hold a list", what)
	}
}

type attributesJSON []struct {
	Name  flexString `json:"name"`
	Value flexString `json:"value"`
}

func (a attributesJSON) model() []Attribute {
	out := make([]Attribute, 0, len(a))
	for _, x := range a {
		out = append(out, Attribute{string(x.Name), string(x.Value)})
	}
	return out
}

func orDefault(s flexString, def string) string {
	if s == "" {
		return def
	}
	return string(s)
}

func readDevelopers(j *jsonFile, data *Data) {
	j.entries("developers.json", func(raw []byte, off int) {
		var d struct {
			Email      flexString     `json:"email"`
			UserName   flexString     `json:"userName"`
			FirstName  flexString     `json:"firstName"`
			LastName   flexString     `json:"lastName"`
			Status     flexString     `json:"status"`
			Attributes attributesJSON `json:"attributes"`
		}
		if !j.decode(raw, off, "developer", &d) {
			return
		}
		if d.Email == "" {
			j.ps.Errorf(j.pos(off), "developer has no email")
			return
		}
		status := strings.ToLower(string(d.Status))
		if status == "" {
			status = "active"
		}
		data.Developers = append(data.Developers, &Developer{Email: string(d.Email), UserName: string(d.UserName),
			FirstName: string(d.FirstName), LastName: string(d.LastName), Status: status, Attributes: d.Attributes.model(), Pos: j.pos(off)})
	})
}

// readKVMs reads maps.json; entries are an object map or a list of
// {name, value}.
func readKVMs(j *jsonFile, data *Data) {
	j.entries("maps.json", func(raw []byte, off int) {
		var m struct {
			Name        flexString `json:"name"`
			Scope       flexString `json:"scope"`
			Environment flexString `json:"environment"`
			APIProxy    flexString `json:"apiproxy"`
			Proxy       flexString `json:"proxy"`
			Encrypted   flexBool   `json:"encrypted"`
		}
		if !j.decode(raw, off, "key value map", &m) {
			return
		}
		if m.Name == "" {
			j.ps.Errorf(j.pos(off), "key value map has no name")
			return
		}
		k := &KVM{Name: string(m.Name), Scope: orDefault(m.Scope, "environment"), Environment: string(m.Environment),
			APIProxy: orDefault(m.APIProxy, string(m.Proxy)), Encrypted: m.Encrypted.V, Pos: j.pos(off)}
		j.object(off, off+len(raw), func(key string, val []byte, voff int) {
			if strings.EqualFold(key, "entries") || strings.EqualFold(key, "entry") {
				k.Entries = j.kvmEntries(val, voff)
			}
		})
		data.KVMs = append(data.KVMs, k)
	})
}

func (j *jsonFile) kvmEntries(raw []byte, off int) []KVMEntry {
	var out []KVMEntry
	isObj := j.object(off, off+len(raw), func(key string, val []byte, voff int) {
		var v flexString
		if j.decode(val, voff, "key value map entry", &v) {
			out = append(out, KVMEntry{Name: key, Value: string(v), Pos: j.pos(voff)})
		}
	})
	isList := !isObj && j.array(off, off+len(raw), func(val []byte, voff int) {
		var e struct {
			Name  flexString `json:"name"`
			Value flexString `json:"value"`
		}
		if j.decode(val, voff, "key value map entry", &e) {
			out = append(out, KVMEntry{Name: string(e.Name), Value: string(e.Value), Pos: j.pos(voff)})
		}
	})
	if !isObj && !isList {
		j.ps.Errorf(j.pos(off), "entries must be an object or a list of {name, value}")
	}
	return out
}

// checkData reports apps naming developers or products the data does not
// define (only when the data defines some: a test may load apps alone),
// and key value maps with an unknown scope.
func checkData(data *Data, ps *Problems) {
	devs, products := map[string]bool{}, map[string]bool{}
	for _, d := range data.Developers {
		devs[strings.ToLower(d.Email)] = true
	}
	for _, p := range data.Products {
		products[p.Name] = true
	}
	for _, a := range data.Apps {
		if a.DeveloperEmail == "" {
			ps.Errorf(a.Pos, "developer app %q has no developerEmail", a.Name)
		} else if len(devs) > 0 && !devs[strings.ToLower(a.DeveloperEmail)] {
			ps.Errorf(a.Pos, "developer app %q names unknown developer %q", a.Name, a.DeveloperEmail)
		}
		for _, p := range a.APIProducts {
			if len(products) > 0 && !products[p] {
				ps.Errorf(a.Pos, "developer app %q names unknown API product %q", a.Name, p)
			}
		}
	}
	for _, k := range data.KVMs {
		if !contains([]string{"organization", "environment", "apiproxy"}, k.Scope) {
			ps.Errorf(k.Pos, "key value map %q has unknown scope %q (want organization, environment or apiproxy)", k.Name, k.Scope)
		}
	}
}
