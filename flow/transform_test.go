package flow

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// evProxy extracts from every source in the request PreFlow and copies the
// variables into response headers (no target: RouteRule without one).
func evProxy() map[string]string {
	return map[string]string{
		"apiproxy/proxies/default.xml": proxyXML("default", "/ev", `
			<PreFlow><Request>
				<Step><Name>EV-Request</Name></Step>
				<Step><Name>EV-Json</Name></Step>
				<Step><Name>EV-Xml</Name></Step>
				<Step><Name>EV-Var</Name></Step>
			</Request><Response><Step><Name>AM-Headers</Name></Step></Response></PreFlow>
			<RouteRule name="none"/>`),
		"apiproxy/policies/EV-Request.xml": `<ExtractVariables name="EV-Request">
			<Source>request</Source><VariablePrefix>ev</VariablePrefix>
			<IgnoreUnresolvedVariables>true</IgnoreUnresolvedVariables>
			<URIPath><Pattern>/members/{member}</Pattern><Pattern ignoreCase="true">/claims/{claim}</Pattern></URIPath>
			<QueryParam name="code"><Pattern>DBN{code}</Pattern></QueryParam>
			<Header name="Authorization"><Pattern>Bearer {token}</Pattern></Header>
			<FormParam name="greeting"><Pattern>hello {user}</Pattern></FormParam>
		</ExtractVariables>`,
		"apiproxy/policies/EV-Json.xml": `<ExtractVariables name="EV-Json"><VariablePrefix>ev</VariablePrefix>
			<JSONPayload><Variable name="lat" type="double"><JSONPath>$.results[0].lat</JSONPath></Variable>
			<Variable name="count" type="integer"><JSONPath>$.count</JSONPath></Variable></JSONPayload>
		</ExtractVariables>`,
		"apiproxy/policies/EV-Xml.xml": `<ExtractVariables name="EV-Xml"><VariablePrefix>ev</VariablePrefix>
			<XMLPayload><Namespaces><Namespace prefix="d">urn:d</Namespace></Namespaces>
			<Variable name="mode" type="string"><XPath>/d:dir/d:step/@mode</XPath></Variable></XMLPayload>
		</ExtractVariables>`,
		"apiproxy/policies/EV-Var.xml": `<ExtractVariables name="EV-Var"><VariablePrefix>ev</VariablePrefix>
			<Variable name="request.header.x-pair"><Pattern>{left}:{right}</Pattern></Variable>
		</ExtractVariables>`,
		"apiproxy/policies/AM-Headers.xml": `<AssignMessage name="AM-Headers"><AssignTo>response</AssignTo>
			<IgnoreUnresolvedVariables>true</IgnoreUnresolvedVariables>
			<Set><Headers>
				<Header name="X-Claim">{ev.claim}</Header><Header name="X-Member">{ev.member}</Header>
				<Header name="X-Code">{ev.code}</Header><Header name="X-Token">{ev.token}</Header>
				<Header name="X-User">{ev.user}</Header><Header name="X-Lat">{ev.lat}</Header>
				<Header name="X-Count">{ev.count}</Header><Header name="X-Mode">{ev.mode}</Header>
				<Header name="X-Left">{ev.left}</Header><Header name="X-Right">{ev.right}</Header>
			</Headers></Set></AssignMessage>`,
	}
}

func TestExtractVariablesEndToEnd(t *testing.T) {
	_, srv := startEngine(t, Options{}, writeFiles(t, evProxy()))
	cases := []struct {
		name, method, path, body string
		hdr                      []string
		want                     map[string]string
	}{
		{"uripath-query-header", "GET", "/ev/Claims/C-9?code=DBN42", "", []string{"Authorization", "Bearer tok-1"},
			map[string]string{"X-Claim": "C-9", "X-Member": "", "X-Code": "42", "X-Token": "tok-1", "X-Lat": ""}},
		{"uripath-second-pattern", "GET", "/ev/members/m1", "", nil, map[string]string{"X-Member": "m1", "X-Claim": ""}},
		{"formparam", "POST", "/ev/x", "greeting=hello+ada", []string{"Content-Type", "application/x-www-form-urlencoded"},
			map[string]string{"X-User": "ada"}},
		{"json", "POST", "/ev/x", `{"results":[{"lat":37.5}],"count":3}`, []string{"Content-Type", "application/json"},
			map[string]string{"X-Lat": "37.5", "X-Count": "3", "X-Mode": ""}},
		{"xml", "POST", "/ev/x", `<dir xmlns="urn:d"><step mode="DRIVING"/></dir>`, []string{"Content-Type", "text/xml"},
			map[string]string{"X-Mode": "DRIVING", "X-Lat": ""}},
		{"variable", "GET", "/ev/x", "", []string{"X-Pair", "k:v:w"}, map[string]string{"X-Left": "k", "X-Right": "v:w"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, h, body := do(t, tc.method, srv.URL+tc.path, tc.body, tc.hdr...)
			if status != 200 {
				t.Fatalf("status %d, body %s", status, body)
			}
			for k, want := range tc.want {
				if got := h.Get(k); got != want {
					t.Errorf("%s %s: header %s = %q, want %q", tc.method, tc.path, k, got, want)
				}
			}
		})
	}
}

func TestExtractVariablesFaultEndToEnd(t *testing.T) {
	files := evProxy()
	files["apiproxy/policies/EV-Json.xml"] = `<ExtractVariables name="EV-Json">
		<JSONPayload><Variable name="lat"><JSONPath>$.lat</JSONPath></Variable></JSONPayload></ExtractVariables>`
	_, srv := startEngine(t, Options{}, writeFiles(t, files))
	status, _, body := do(t, "POST", srv.URL+"/ev/x", `{"lat":`, "Content-Type", "application/json")
	fs, code := faultOf(t, body)
	if status != 500 || code != "steps.extractvariables.ExecutionFailed" || fs != "Failed to execute the ExtractVariables: EV-Json" {
		t.Errorf("malformed JSON: %d %s %q, want 500 steps.extractvariables.ExecutionFailed", status, code, fs)
	}
	// The next request is served normally.
	if status, h, _ := do(t, "GET", srv.URL+"/ev/claims/7", ""); status != 200 || h.Get("X-Claim") != "7" {
		t.Errorf("after a fault: status %d, X-Claim %q; want 200 and 7", status, h.Get("X-Claim"))
	}
}

// soapBackend accepts only XML and answers with a SOAP-like XML document.
func soapBackend(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var order struct {
			XMLName xml.Name `xml:"order"`
			ID      string   `xml:"id,attr"`
			Items   []string `xml:"item"`
			Note    string   `xml:"note"`
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/xml" || xml.Unmarshal(b, &order) != nil {
			w.WriteHeader(http.StatusUnsupportedMediaType)
			_, _ = w.Write([]byte("want XML, got " + ct + ": " + string(b)))
			return
		}
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		_, _ = io.WriteString(w, `<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">`+
			`<soap:Body><r:Receipt xmlns:r="urn:r" order="`+order.ID+`"><r:count>`+itoa(len(order.Items))+`</r:count>`+
			`<r:paid>true</r:paid><r:line><r:sku>`+strings.Join(order.Items, `</r:sku></r:line><r:line><r:sku>`)+`</r:sku></r:line>`+
			`<r:note>`+order.Note+`</r:note><r:empty/></r:Receipt></soap:Body></soap:Envelope>`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestJSONXMLTransformEndToEnd(t *testing.T) {
	be := soapBackend(t)
	dir := writeFiles(t, map[string]string{
		"apiproxy/proxies/default.xml": proxyXML("default", "/shop",
			`<PreFlow><Request><Step><Name>J2X</Name></Step></Request></PreFlow>
			 <RouteRule name="soap"><TargetEndpoint>soap</TargetEndpoint></RouteRule>`),
		"apiproxy/targets/soap.xml": targetXML("soap", be.URL+"/orders",
			`<PreFlow><Response><Step><Name>X2J</Name></Step></Response></PreFlow>`),
		"apiproxy/policies/J2X.xml": `<JSONToXML name="J2X"><Source>request</Source><OutputVariable>request</OutputVariable>
			<Options><AttributePrefix>@</AttributePrefix><TextNodeName>#text</TextNodeName>
			<ObjectRootElementName>order</ObjectRootElementName></Options></JSONToXML>`,
		"apiproxy/policies/X2J.xml": `<XMLToJSON name="X2J"><Source>response</Source><OutputVariable>response</OutputVariable>
			<Options><RecognizeNumber>true</RecognizeNumber><RecognizeBoolean>true</RecognizeBoolean>
			<RecognizeNull>true</RecognizeNull><AttributePrefix>@</AttributePrefix><StripLevels>2</StripLevels>
			<NamespaceSeparator>_</NamespaceSeparator>
			<TreatAsArray><Path unwrap="true">soap:Envelope/soap:Body/r:Receipt/r:line/r:sku</Path></TreatAsArray>
			</Options></XMLToJSON>`,
	})
	_, srv := startEngine(t, Options{}, dir)
	cases := []struct{ name, body, want string }{
		{"two-items", `{"@id":"A1","item":["apple","pear"],"note":"ring twice"}`,
			`{"r_Receipt":{"@order":"A1","r_count":2,"r_paid":true,"r_line":[["apple"],["pear"]],"r_note":"ring twice","r_empty":null}}`},
		{"array-of-one", `{"@id":"B2","item":["fig"],"note":""}`,
			`{"r_Receipt":{"@order":"B2","r_count":1,"r_paid":true,"r_line":["fig"],"r_note":null,"r_empty":null}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, h, body := do(t, "POST", srv.URL+"/shop", tc.body, "Content-Type", "application/json")
			if status != 200 {
				t.Fatalf("status %d: %s", status, body)
			}
			if ct := h.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			if body != tc.want {
				t.Errorf("POST %s:\n got  %s\n want %s", tc.body, body, tc.want)
			}
		})
	}
	// A client that already sends XML: JSONToXML is skipped and the
	// backend still gets XML.
	status, _, body := do(t, "POST", srv.URL+"/shop", `<order id="C3"><item>kiwi</item></order>`, "Content-Type", "application/xml")
	if status != 200 || !strings.Contains(body, `"@order":"C3"`) {
		t.Errorf("XML client: status %d body %s", status, body)
	}
	// Malformed JSON is steps.json2xml.ExecutionFailed.
	status, _, body = do(t, "POST", srv.URL+"/shop", `{"@id":`, "Content-Type", "application/json")
	if fs, code := faultOf(t, body); status != 500 || code != "steps.json2xml.ExecutionFailed" || !strings.HasPrefix(fs, "JSONToXML[J2X]: Execution failed. reason: ") {
		t.Errorf("malformed JSON: %d %s %q", status, code, fs)
	}
}
