package httptarget

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apigo/apigo/bundle"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t testing.TB, name string) *testCA {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue signs a leaf certificate for cn (valid for 127.0.0.1) and returns
// it as a tls.Certificate plus its PEM certificate and key.
func (ca *testCA) issue(t testing.TB, cn string, usage x509.ExtKeyUsage) (tls.Certificate, []byte, []byte) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{cn},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return pair, certPEM, keyPEM
}

// tlsBackend is an https test server with a certificate from ca; with
// clientCA it requires client certificates signed by it.
func tlsBackend(t testing.TB, ca *testCA, cn string, clientCA *testCA) *httptest.Server {
	pair, _, _ := ca.issue(t, cn, x509.ExtKeyUsageServerAuth)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Server", "tls")
		if len(r.TLS.PeerCertificates) > 0 {
			w.Header().Set("X-Client", r.TLS.PeerCertificates[0].Subject.CommonName)
		}
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	if clientCA != nil {
		pool := x509.NewCertPool()
		pool.AddCert(clientCA.cert)
		srv.TLS.ClientCAs, srv.TLS.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func urlConn(url, ssl string) string {
	return "<HTTPTargetConnection><URL>" + url + "</URL><SSLInfo>" + ssl + "</SSLInfo></HTTPTargetConnection>"
}

func TestTLS(t *testing.T) {
	ca, other := newCA(t, "test CA"), newCA(t, "other CA")
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "good.pem"), ca.pem)
	writeFile(t, filepath.Join(dir, "wrong.crt"), other.pem)
	srv := tlsBackend(t, ca, "backend.test", nil)
	tests := []struct {
		name, ssl, want string
	}{
		{"trusted by truststore", "<Enabled>true</Enabled><TrustStore>ref://good</TrustStore>", "tls"},
		{"untrusted by truststore", "<Enabled>true</Enabled><TrustStore>wrong</TrustStore>", "!TLS"},
		{"enforce without truststore uses system roots", "<Enabled>true</Enabled><Enforce>true</Enforce>", "!TLS"},
		{"enforce wins over ignore", "<Enabled>true</Enabled><Enforce>true</Enforce><IgnoreValidationErrors>true</IgnoreValidationErrors><TrustStore>wrong</TrustStore>", "!TLS"},
		{"ignore validation errors", "<Enabled>true</Enabled><TrustStore>wrong</TrustStore><IgnoreValidationErrors>true</IgnoreValidationErrors>", "tls"},
		{"no truststore, not enforced", "<Enabled>true</Enabled>", "tls"},
		{"common name matches", "<Enabled>true</Enabled><TrustStore>good</TrustStore><CommonName>backend.test</CommonName>", "tls"},
		{"common name wildcard", `<Enabled>true</Enabled><TrustStore>good</TrustStore><CommonName wildcardMatch="true">*.test</CommonName>`, "tls"},
		{"common name mismatch", "<Enabled>true</Enabled><TrustStore>good</TrustStore><CommonName>other.test</CommonName>", "!TLS"},
		{"protocol TLSv1.3", "<Enabled>true</Enabled><TrustStore>good</TrustStore><Protocols><Protocol>TLSv1.3</Protocol></Protocols>", "tls"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := build(t, urlConn(srv.URL, tt.ssl), nil, Options{KeystoreDir: dir})
			if got := sendURL(t, conn, srv.URL+"/x"); got != tt.want {
				t.Errorf("Send = %q, want %q", got, tt.want)
			}
		})
	}
}

func sendURL(t testing.TB, c *Connection, u string) string {
	t.Helper()
	m, _, err := get(t, c, u)
	if err != nil {
		return "!" + err.(*Error).Kind.String()
	}
	return m.Header.Get("X-Server") + m.Header.Get("X-Client")
}

func TestStrictTLS(t *testing.T) {
	ca := newCA(t, "test CA")
	srv := tlsBackend(t, ca, "backend.test", nil)
	conn := build(t, "<HTTPTargetConnection><URL>"+srv.URL+"</URL></HTTPTargetConnection>", nil, Options{StrictTLS: true})
	if got := sendURL(t, conn, srv.URL); got != "!TLS" {
		t.Errorf("StrictTLS to an untrusted certificate = %q, want !TLS", got)
	}
	lax := build(t, "<HTTPTargetConnection><URL>"+srv.URL+"</URL></HTTPTargetConnection>", nil, Options{})
	if got := sendURL(t, lax, srv.URL); got != "tls" {
		t.Errorf("default to an untrusted certificate without SSLInfo = %q, want tls (accepted)", got)
	}
}

func TestMutualTLS(t *testing.T) {
	ca := newCA(t, "test CA")
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "trust.pem"), ca.pem)
	_, crt, key := ca.issue(t, "apigo-client", x509.ExtKeyUsageClientAuth)
	writeFile(t, filepath.Join(dir, "ks", "client.crt"), crt)
	writeFile(t, filepath.Join(dir, "ks", "client.key"), key)
	writeFile(t, filepath.Join(dir, "both.pem"), append(append([]byte{}, crt...), key...))
	srv := tlsBackend(t, ca, "backend.test", ca)
	tests := []struct{ name, ssl, want string }{
		{"alias files", "<Enabled>true</Enabled><ClientAuthEnabled>true</ClientAuthEnabled><KeyStore>ref://ks</KeyStore><KeyAlias>client</KeyAlias><TrustStore>trust</TrustStore>", "tlsapigo-client"},
		{"single pem", "<Enabled>true</Enabled><ClientAuthEnabled>true</ClientAuthEnabled><KeyStore>both</KeyStore><KeyAlias>any</KeyAlias><TrustStore>trust</TrustStore>", "tlsapigo-client"},
		{"no client certificate", "<Enabled>true</Enabled><TrustStore>trust</TrustStore>", "!TLS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := build(t, urlConn(srv.URL, tt.ssl), nil, Options{KeystoreDir: dir})
			if got := sendURL(t, conn, srv.URL); got != tt.want {
				t.Errorf("Send = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTargetServerSSLInfoWins(t *testing.T) {
	ca := newCA(t, "test CA")
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "trust.pem"), ca.pem)
	srv := tlsBackend(t, ca, "backend.test", nil)
	h, p := hostPort(t, srv.URL)
	secure := &bundle.TargetServer{Name: "S", Host: h, Port: p, IsEnabled: true,
		SSLInfo: &bundle.TLSInfo{Enabled: true, Enforce: true, TrustStore: "trust"}}
	// The endpoint's SSLInfo would fail (disabled, so plain http); the
	// server's own sSLInfo wins and reaches it over verified https.
	conn := build(t, `<HTTPTargetConnection><LoadBalancer><Server name="S"/></LoadBalancer>
  <SSLInfo><Enabled>false</Enabled></SSLInfo></HTTPTargetConnection>`, env(secure), Options{KeystoreDir: dir})
	m, info, err := get(t, conn, "/x")
	if err != nil || m.Header.Get("X-Server") != "tls" || info.Scheme != "https" {
		t.Errorf("Send: scheme %q err %v, want a verified https answer", info.Scheme, err)
	}
	// Without its sSLInfo the server gets the endpoint's: https, not verified.
	plain := &bundle.TargetServer{Name: "S", Host: h, Port: p, IsEnabled: true}
	conn = build(t, `<HTTPTargetConnection><LoadBalancer><Server name="S"/></LoadBalancer>
  <SSLInfo><Enabled>true</Enabled></SSLInfo></HTTPTargetConnection>`, env(plain), Options{})
	if _, info, err := get(t, conn, "/x"); err != nil || info.Scheme != "https" {
		t.Errorf("endpoint SSLInfo: scheme %q err %v, want https", info.Scheme, err)
	}
}

func TestTLSBuildErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "junk.pem"), []byte("not pem"))
	tests := []struct{ name, ssl, keystoreDir, want string }{
		{"missing truststore", "<Enabled>true</Enabled><TrustStore>ref://nope</TrustStore>", dir, `truststore "nope": none of`},
		{"no keystore folder", "<Enabled>true</Enabled><TrustStore>x</TrustStore>", "", "no keystore folder"},
		{"junk truststore", "<Enabled>true</Enabled><TrustStore>junk</TrustStore>", dir, "holds no PEM certificate"},
		{"path in name", "<Enabled>true</Enabled><TrustStore>../x</TrustStore>", dir, "not a plain name"},
		{"missing keystore", "<Enabled>true</Enabled><ClientAuthEnabled>true</ClientAuthEnabled><KeyStore>ks</KeyStore><KeyAlias>k</KeyAlias>", dir, `keystore "ks": neither`},
		{"bad protocol", "<Enabled>true</Enabled><Protocols><Protocol>SSLv3</Protocol></Protocols>", dir, "unknown TLS protocol"},
		{"bad cipher", "<Enabled>true</Enabled><Ciphers><Cipher>ROT13</Cipher></Ciphers>", dir, "unknown cipher suite"},
		{"bad bool", "<Enabled>yes please</Enabled>", dir, "is not true or false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, doc := loadConn(t, urlConn("https://example.test", tt.ssl))
			var ps bundle.Problems
			Build(h, doc, nil, Options{KeystoreDir: tt.keystoreDir}, &ps).Close()
			got := ps.String()
			if !strings.Contains(got, tt.want) || !strings.Contains(got, "targets/default.xml:2:") {
				t.Errorf("problems = %q, want %q at targets/default.xml:2", got, tt.want)
			}
		})
	}
}
