package bundle

// Environment is one environment folder of a workspace
// (src/main/apigee/environments/<name>/), or an empty one.
type Environment struct {
	Name string
	// Deployments lists the proxies and shared flows deployments.json names;
	// nil when the file is absent (then everything found is deployed).
	Deployments   *Deployments
	TargetServers map[string]*TargetServer
	FlowHooks     map[string]*FlowHook // keyed by hook point, e.g. "PreProxyFlowHook"
	// Files maps file names in the environment folder (kvms.json, caches.json,
	// ...) to their contents, for later consumers.
	Files map[string][]byte
	Dir   string // display path of the folder, "" when none
}

// Deployments is deployments.json.
type Deployments struct {
	Proxies     []string
	SharedFlows []string
}

// TargetServer is one entry of targetservers.json.
type TargetServer struct {
	Name        string
	Host        string
	Port        int
	IsEnabled   bool // "isEnabled" or "enabled"; default true
	Protocol    string
	Description string
	SSLInfo     *TLSInfo // "sSLInfo" (sic) or "sslInfo"
	Pos         Pos
}

// TLSInfo is a target server's sSLInfo.
type TLSInfo struct {
	Enabled                bool
	Enforce                bool
	ClientAuthEnabled      bool
	KeyStore               string
	KeyAlias               string
	TrustStore             string
	IgnoreValidationErrors bool
	Protocols              []string
	Ciphers                []string
	CommonName             string
	WildcardMatch          bool
}

// FlowHook is one entry of flowhooks.json.
type FlowHook struct {
	Point           string
	SharedFlow      string
	ContinueOnError bool // default true, as Apigee's REST reference says
	Pos             Pos
}
