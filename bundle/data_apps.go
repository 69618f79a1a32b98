package bundle

import "encoding/json"

type productJSON struct {
	Name           flexString          `json:"name"`
	DisplayName    flexString          `json:"displayName"`
	Description    flexString          `json:"description"`
	ApprovalType   flexString          `json:"approvalType"`
	Attributes     attributesJSON      `json:"attributes"`
	APIResources   flexStrings         `json:"apiResources"`
	Environments   flexStrings         `json:"environments"`
	Proxies        flexStrings         `json:"proxies"`
	Scopes         flexStrings         `json:"scopes"`
	Quota          flexString          `json:"quota"`
	QuotaInterval  flexString          `json:"quotaInterval"`
	QuotaTimeUnit  flexString          `json:"quotaTimeUnit"`
	OperationGroup *operationGroupJSON `json:"operationGroup"`
}

type operationGroupJSON struct {
	OperationConfigType flexString `json:"operationConfigType"`
	OperationConfigs    []struct {
		APISource  flexString `json:"apiSource"`
		Operations []struct {
			Resource flexString  `json:"resource"`
			Methods  flexStrings `json:"methods"`
		} `json:"operations"`
		Quota *struct {
			Limit    flexString `json:"limit"`
			Interval flexString `json:"interval"`
			TimeUnit flexString `json:"timeUnit"`
		} `json:"quota"`
		Attributes attributesJSON `json:"attributes"`
	} `json:"operationConfigs"`
}

func (g *operationGroupJSON) model() *OperationGroup {
	if g == nil {
		return nil
	}
	out := &OperationGroup{OperationConfigType: orDefault(g.OperationConfigType, "proxy")}
	for _, c := range g.OperationConfigs {
		oc := OperationConfig{APISource: string(c.APISource), Attributes: c.Attributes.model()}
		for _, op := range c.Operations {
			oc.Operations = append(oc.Operations, Operation{Resource: string(op.Resource), Methods: op.Methods})
		}
		if c.Quota != nil {
			oc.Quota = &OperationQuota{Limit: string(c.Quota.Limit), Interval: string(c.Quota.Interval), TimeUnit: string(c.Quota.TimeUnit)}
		}
		out.OperationConfigs = append(out.OperationConfigs, oc)
	}
	return out
}

func readProducts(j *jsonFile, data *Data) {
	j.entries("products.json", func(raw []byte, off int) {
		var p productJSON
		if !j.decode(raw, off, "API product", &p) {
			return
		}
		if p.Name == "" {
			j.ps.Errorf(j.pos(off), "API product has no name")
			return
		}
		data.Products = append(data.Products, &Product{Name: string(p.Name), DisplayName: string(p.DisplayName),
			Description: string(p.Description), ApprovalType: orDefault(p.ApprovalType, "auto"),
			Attributes: p.Attributes.model(), APIResources: p.APIResources, Environments: p.Environments,
			Proxies: p.Proxies, Scopes: p.Scopes, Quota: string(p.Quota), QuotaInterval: string(p.QuotaInterval),
			QuotaTimeUnit: string(p.QuotaTimeUnit), OperationGroup: p.OperationGroup.model(), Pos: j.pos(off)})
	})
}

type appJSON struct {
	Name           flexString       `json:"name"`
	DisplayName    flexString       `json:"displayName"`
	DeveloperEmail flexString       `json:"developerEmail"`
	CallbackURL    flexString       `json:"callbackUrl"`
	AppID          flexString       `json:"appId"`
	Status         flexString       `json:"status"`
	APIProducts    flexStrings      `json:"apiProducts"`
	Scopes         flexStrings      `json:"scopes"`
	ExpiryType     flexString       `json:"expiryType"`
	Attributes     attributesJSON   `json:"attributes"`
	Credentials    []credentialJSON `json:"credentials"`
}

type credentialJSON struct {
	ConsumerKey    flexString     `json:"consumerKey"`
	ConsumerSecret flexString     `json:"consumerSecret"`
	Status         flexString     `json:"status"`
	APIProducts    []credProduct  `json:"apiProducts"`
	Scopes         flexStrings    `json:"scopes"`
	Attributes     attributesJSON `json:"attributes"`
	IssuedAt       flexInt        `json:"issuedAt"`
	ExpiresAt      *flexInt       `json:"expiresAt"`
}

// credProduct is {"apiproduct": "p", "status": "approved"} or "p".
type credProduct struct {
	APIProduct flexString `json:"apiproduct"`
	Status     flexString `json:"status"`
}

func (c *credProduct) UnmarshalJSON(b []byte) error {
	if err := c.APIProduct.UnmarshalJSON(b); err == nil {
		return nil
	}
	type plain credProduct
	return json.Unmarshal(b, (*plain)(c))
}

func (c credentialJSON) model() *Credential {
	out := &Credential{ConsumerKey: string(c.ConsumerKey), ConsumerSecret: string(c.ConsumerSecret),
		Status: orDefault(c.Status, "approved"), Scopes: c.Scopes, Attributes: c.Attributes.model(),
		IssuedAt: int64(c.IssuedAt), ExpiresAt: -1}
	if c.ExpiresAt != nil {
		out.ExpiresAt = int64(*c.ExpiresAt)
	}
	for _, p := range c.APIProducts {
		out.APIProducts = append(out.APIProducts, CredentialProduct{APIProduct: string(p.APIProduct), Status: orDefault(p.Status, "approved")})
	}
	return out
}

func readApps(j *jsonFile, data *Data) {
	j.entries("developerapps.json", func(raw []byte, off int) {
		var a appJSON
		if !j.decode(raw, off, "developer app", &a) {
			return
		}
		if a.Name == "" {
			j.ps.Errorf(j.pos(off), "developer app has no name")
			return
		}
		app := &DeveloperApp{Name: string(a.Name), DisplayName: string(a.DisplayName), DeveloperEmail: string(a.DeveloperEmail),
			CallbackURL: string(a.CallbackURL), AppID: string(a.AppID), Status: orDefault(a.Status, "approved"),
			APIProducts: a.APIProducts, Scopes: a.Scopes, ExpiryType: string(a.ExpiryType),
			Attributes: a.Attributes.model(), Pos: j.pos(off)}
		for _, c := range a.Credentials {
			if c.ConsumerKey == "" {
				j.ps.Errorf(app.Pos, "developer app %q has a credential without a consumerKey", app.Name)
				continue
			}
			app.Credentials = append(app.Credentials, c.model())
		}
		data.Apps = append(data.Apps, app)
	})
}
