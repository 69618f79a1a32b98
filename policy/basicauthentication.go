package policy

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/beevik/etree"

	"github.com/apigo/apigo/bundle"
	"github.com/apigo/apigo/policy/exchange"
)

func init() { Register("BasicAuthentication", "BasicAuthentication", buildBasicAuthentication) }

// BasicAuthentication is a built <BasicAuthentication> policy. Encode
// writes "Basic base64(user:password)" to AssignTo; Decode parses Source
// and sets the User and Password variables. Answering 401 is the proxy
// author's job (a FaultRule or RaiseFault), as in Apigee.
type BasicAuthentication struct {
	Name string
	// Decode is true for <Operation>Decode</Operation>, false for Encode.
	Decode bool
	// User and Password are the ref attributes of <User> and <Password>:
	// read by Encode, written by Decode.
	User, Password string
	// Source is the variable Decode reads (request.header.Authorization).
	Source string
	// AssignTo is the variable Encode writes; CreateNew (default false)
	// overwrites it when it is already set, otherwise only an unset
	// variable is assigned.
	AssignTo  string
	CreateNew bool
	// IgnoreUnresolved is IgnoreUnresolvedVariables (default false): an
	// unresolved User/Password (Encode) reads as "" and a missing Source
	// (Decode) makes the policy do nothing, instead of UnresolvedVariable.
	IgnoreUnresolved bool
}

func buildBasicAuthentication(bc *BuildContext, p *bundle.Policy) Policy {
	before := countErrors(bc.Problems)
	ba := &BasicAuthentication{Name: p.Name}
	var opEl *etree.Element
	for _, el := range p.Element.ChildElements() {
		switch el.Tag {
		case "Operation":
			opEl = el
		case "User":
			ba.User = strings.TrimSpace(el.SelectAttrValue("ref", ""))
		case "Password":
			ba.Password = strings.TrimSpace(el.SelectAttrValue("ref", ""))
		case "Source":
			ba.Source = strings.TrimSpace(el.Text())
		case "AssignTo":
			ba.AssignTo = strings.TrimSpace(el.Text())
			if a := el.SelectAttr("createNew"); a != nil {
				ba.CreateNew = parseBoolAttr(bc, p, el, a)
			}
		case "IgnoreUnresolvedVariables":
			ba.IgnoreUnresolved = boolText(bc, p.Doc, el)
		case "DisplayName", "Description", "Properties", "FaultRules":
		default:
			bc.Problems.Warnf(p.Doc.Pos(el), "unknown element <%s> in <BasicAuthentication>, ignored", el.Tag)
		}
	}
	ba.checkBuild(bc, p, opEl)
	if countErrors(bc.Problems) > before {
		return nil
	}
	return ba
}

// checkBuild reports what the policy lacks for its operation.
func (ba *BasicAuthentication) checkBuild(bc *BuildContext, p *bundle.Policy, opEl *etree.Element) {
	errorf := func(el *etree.Element, format string, args ...any) {
		bc.Problems.Errorf(p.Doc.Pos(el), format, args...)
	}
	switch {
	case opEl == nil:
		errorf(p.Element, "InvalidOperation: <BasicAuthentication> %q needs <Operation>Encode</Operation> or <Operation>Decode</Operation>", p.Name)
		return
	case strings.EqualFold(strings.TrimSpace(opEl.Text()), "Decode"):
		ba.Decode = true
	case !strings.EqualFold(strings.TrimSpace(opEl.Text()), "Encode"):
		errorf(opEl, "InvalidOperation: <Operation> %q is not Encode or Decode", strings.TrimSpace(opEl.Text()))
		return
	}
	if ba.User == "" {
		errorf(p.Element, "UserNameRequired: <BasicAuthentication> %q needs <User ref=\"...\"/>", p.Name)
	}
	if ba.Password == "" {
		errorf(p.Element, "PasswordRequired: <BasicAuthentication> %q needs <Password ref=\"...\"/>", p.Name)
	}
	if ba.Decode && ba.Source == "" {
		errorf(p.Element, "<BasicAuthentication> %q decodes but has no <Source>", p.Name)
	}
	if !ba.Decode && ba.AssignTo == "" {
		errorf(p.Element, "<BasicAuthentication> %q encodes but has no <AssignTo>", p.Name)
	}
}

// Execute encodes or decodes.
func (ba *BasicAuthentication) Execute(_ context.Context, x *exchange.Exchange) error {
	if ba.Decode {
		return ba.decode(x)
	}
	return ba.encode(x)
}

func (ba *BasicAuthentication) encode(x *exchange.Exchange) error {
	user, ok := x.GetString(ba.User)
	if !ok && !ba.IgnoreUnresolved {
		return ba.unresolved(ba.User)
	}
	pass, ok := x.GetString(ba.Password)
	if !ok && !ba.IgnoreUnresolved {
		return ba.unresolved(ba.Password)
	}
	if !ba.CreateNew {
		if v, set := x.Lookup(ba.AssignTo); set && v != nil {
			return nil
		}
	}
	value := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	if err := x.Set(ba.AssignTo, value); err != nil {
		return ba.fault("ExecutionFailed", "Failed to set variable "+ba.AssignTo+" in BasicAuthentication: "+ba.Name, err)
	}
	return nil
}

func (ba *BasicAuthentication) decode(x *exchange.Exchange) error {
	v, ok := x.GetString(ba.Source)
	if !ok {
		if ba.IgnoreUnresolved {
			return nil
		}
		return ba.unresolved(ba.Source)
	}
	user, pass, ok := parseBasic(v)
	if !ok {
		return ba.fault("InvalidBasicAuthenticationSource",
			"Source variable : "+ba.Source+" for basic authentication decode policy is not valid", nil)
	}
	if err := x.Set(ba.User, user); err != nil {
		return ba.fault("ExecutionFailed", "Failed to set variable "+ba.User+" in BasicAuthentication: "+ba.Name, err)
	}
	if err := x.Set(ba.Password, pass); err != nil {
		return ba.fault("ExecutionFailed", "Failed to set variable "+ba.Password+" in BasicAuthentication: "+ba.Name, err)
	}
	return nil
}

// parseBasic reads "Basic base64(user:password)"; the scheme is
// case-insensitive and the password may contain ':'.
func parseBasic(v string) (user, pass string, ok bool) {
	v = strings.TrimSpace(v)
	scheme, cred, found := strings.Cut(v, " ")
	if !found || !strings.EqualFold(scheme, "Basic") {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return "", "", false
	}
	return strings.Cut(string(raw), ":")
}

func (ba *BasicAuthentication) unresolved(name string) *Fault {
	return ba.fault("UnresolvedVariable", "Unresolved variable : "+name, nil)
}

func (ba *BasicAuthentication) fault(name, text string, cause error) *Fault {
	return &Fault{
		Name: name, Code: "steps.basicauthentication." + name, FaultString: text,
		Status: http.StatusInternalServerError, Source: "policy", Policy: ba.Name, Cause: cause,
	}
}
