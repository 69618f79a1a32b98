// Package httptarget sends target requests for an HTTPTargetConnection: a
// TargetEndpoint's or a ServiceCallout's. Build compiles the connection once
// (properties, URL or LoadBalancer with Path, SSLInfo, HealthMonitor); Send
// makes one call, picking a target server, retrying and counting failures as
// Apigee's load balancer does (reference sections 6.7 and 7). It is modelled
// on httputil.ReverseProxy: an injectable Transport, a fresh outgoing request
// built from the request message, one error type for every transport
// failure.
//
// # Errors and the faults callers raise
//
// Send's error is an *Error whose Kind the caller maps to Apigee's fault:
//
//	Kind             TargetEndpoint (flow)                                          ServiceCallout
//	ConnectRefused   503 messaging.adaptors.http.flow.ServiceUnavailable             500 steps.servicecallout.ExecutionFailed
//	ConnectTimeout   503 ...flow.ServiceUnavailable, reason TARGET_CONNECT_TIMEOUT   500 ExecutionFailed
//	ReadTimeout      504 messaging.adaptors.http.flow.GatewayTimeout,               500 ExecutionFailed ("timeout occurred in <name>")
//	                     reason TARGET_READ_TIMEOUT
//	WriteTimeout     408 (reference 6.1; no errorcode documented)                   500 ExecutionFailed
//	Other            502 messaging.adaptors.http.flow.UnexpectedEOFAtTarget          500 ExecutionFailed
//	NoActiveTargets  503 messaging.adaptors.http.flow.NoActiveTargets               500 ExecutionFailed
//	BadURL           503 ...flow.ServiceUnavailable (InvalidTargetURL)               500 ExecutionFailed
//	TLS              503 messaging.adaptors.http.flow.SslHandshakeFailed             500 ExecutionFailed
//	Canceled         none: the client went away                                      none
//
// A response whose status is not in success.codes is not an error: callers
// test IsSuccess and raise ErrorResponseCode (flow) or ExecutionFailed
// "ResponseCode N is treated as error" (ServiceCallout) themselves.
//
// # Load balancing and circuit breaking
//
// Balancers (one type per <Algorithm>): RoundRobin (the default; exact
// alternation in <Server> order), Weighted (nginx's smooth weighted round
// robin; a missing Weight is 1) and LeastConnections (fewest requests in
// flight; ties go to the server listed first). Servers whose TargetServer
// has isEnabled false are never picked. IsFallback servers are picked only
// while no other server is in rotation.
//
// Each server's health is atomic state (consecutive failures, down flag,
// down-since, requests in flight); a pick reads it without locks or
// allocation. A failure is an attempt that got no response (connection,
// TLS, timeout or EOF errors; a canceled client is not one) or a status
// listed in ServerUnhealthyResponse; any other response resets the count.
// At MaxFailures consecutive failures the server leaves rotation
// (MaxFailures 0, the default, never takes a server out).
// Options.TakeOutOnFirstFailure switches to the literal "first failure"
// reading of Apigee's page.
//
// With RetryEnabled (default true) and at least two enabled servers, a
// failed attempt is retried on the next eligible server after it in
// <Server> order (the balancer's own turn is left alone), each server at
// most once per request; plain 4xx/5xx responses are never
// retried, nor is a request whose body is streamed. When retries run out,
// the last response (an unhealthy code) or error is returned. No server in
// rotation is NoActiveTargets.
//
// A server comes back when an enabled HealthMonitor's probe succeeds (a
// success resets the count; probe failures count toward MaxFailures like
// live ones). Without a monitor, once Options.ReadmitAfter (default 5
// minutes; an Edge-style <TargetDisableSecs> wins) has passed, one request at
// a time may try the downed server (half-open); any non-failure response
// puts it back, a failure restarts the wait. The monitor is one goroutine per
// Connection probing every enabled server each IntervalInSec (fractions of a
// second are accepted), all servers at once; Close stops it.
//
// # TLS
//
// SSLInfo on the endpoint applies to URL targets and to target servers
// without their own sSLInfo; a TargetServer's sSLInfo wins. A load-balanced
// server is reached over https when the SSLInfo that applies to it has
// Enabled true. Certificates are verified when Enforce is true, or when a
// TrustStore is named and IgnoreValidationErrors is false; otherwise any
// certificate is accepted, as Apigee does without a truststore
// (Options.StrictTLS verifies against the system roots by default instead).
// With a CommonName, the certificate's CN must match it (wildcardMatch: a
// leading "*." matches one label) in place of the host name check.
// Protocols (TLSv1.2, TLSv1.3) bound the version; Ciphers take IANA names.
//
// Apigee names truststores and keystores, often by reference
// ("ref://mytruststore"); locally the reference name is the store name and
// stores are PEM files under Options.KeystoreDir (the environment folder's
// keystores/):
//
//	truststore NAME          NAME.pem or NAME.crt: one or more PEM CA certificates
//	keystore NAME, alias A   NAME/A.crt (certificate chain) and NAME/A.key (private key),
//	                         else NAME.pem holding both the chain and the key
//
// A missing file is a build error at the SSLInfo (or the target server in
// targetservers.json). ClientAuthEnabled sends the keystore's certificate.
package httptarget
