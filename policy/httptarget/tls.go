package httptarget

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/apigo/apigo/bundle"
	"github.com/beevik/etree"
)

// sslInfo is an <SSLInfo> element or a target server's sSLInfo.
type sslInfo struct {
	enabled, enforce, clientAuth, ignoreValidation bool
	keyStore, keyAlias, trustStore                 string
	protocols, ciphers                             []string
	commonName                                     string
	wildcard                                       bool
	pos                                            bundle.Pos
}

func readSSLInfo(r reader, e *etree.Element) *sslInfo {
	r.unknown(e, "Enabled", "Enforce", "ClientAuthEnabled", "KeyStore", "KeyAlias", "TrustStore",
		"IgnoreValidationErrors", "Protocols", "Ciphers", "CommonName")
	s := &sslInfo{pos: r.pos(e),
		enabled: r.boolOf(e, "Enabled", false), enforce: r.boolOf(e, "Enforce", false),
		clientAuth: r.boolOf(e, "ClientAuthEnabled", false), ignoreValidation: r.boolOf(e, "IgnoreValidationErrors", false),
		keyStore: r.text(e.SelectElement("KeyStore")), keyAlias: r.text(e.SelectElement("KeyAlias")),
		trustStore: r.text(e.SelectElement("TrustStore"))}
	s.protocols = r.nested(e, "Protocols", "Protocol")
	s.ciphers = r.nested(e, "Ciphers", "Cipher")
	if cn := e.SelectElement("CommonName"); cn != nil {
		s.commonName = r.text(cn)
		s.wildcard = strings.EqualFold(cn.SelectAttrValue("wildcardMatch", "false"), "true")
	}
	return s
}

func fromTLSInfo(t *bundle.TLSInfo, pos bundle.Pos) *sslInfo {
	return &sslInfo{pos: pos, enabled: t.Enabled, enforce: t.Enforce, clientAuth: t.ClientAuthEnabled,
		ignoreValidation: t.IgnoreValidationErrors, keyStore: t.KeyStore, keyAlias: t.KeyAlias,
		trustStore: t.TrustStore, protocols: t.Protocols, ciphers: t.Ciphers, commonName: t.CommonName,
		wildcard: t.WildcardMatch}
}

// verifies reports whether the target's certificate is checked: always
// with Enforce; otherwise when a TrustStore is named and
// IgnoreValidationErrors is false (Apigee accepts any certificate when no
// truststore is configured), or with Options.StrictTLS.
func (s *sslInfo) verifies(strict bool) bool {
	switch {
	case s.enforce:
		return true
	case s.ignoreValidation:
		return false
	}
	return s.trustStore != "" || strict
}

// config builds the client TLS configuration. Files are read now, once.
func (s *sslInfo) config(opts Options) (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if err := s.versions(c); err != nil {
		return nil, err
	}
	if err := s.cipherSuites(c); err != nil {
		return nil, err
	}
	if s.trustStore != "" {
		pool, err := loadTrustStore(opts.KeystoreDir, s.trustStore)
		if err != nil {
			return nil, err
		}
		c.RootCAs = pool
	}
	if s.clientAuth {
		cert, err := loadKeyStore(opts.KeystoreDir, s.keyStore, s.keyAlias)
		if err != nil {
			return nil, err
		}
		c.Certificates = []tls.Certificate{cert}
	}
	s.verification(c, opts.StrictTLS)
	return c, nil
}

// verification sets up certificate checks: the standard chain and host
// name checks, or, with a CommonName, the chain plus the CN check in place
// of the host name check.
func (s *sslInfo) verification(c *tls.Config, strict bool) {
	if !s.verifies(strict) {
		c.InsecureSkipVerify = true
		return
	}
	if s.commonName == "" {
		return
	}
	c.InsecureSkipVerify = true // replaced by VerifyConnection below
	roots, cn, wild := c.RootCAs, s.commonName, s.wildcard
	c.VerifyConnection = func(st tls.ConnectionState) error {
		if len(st.PeerCertificates) == 0 {
			return errors.New("tls: target sent no certificate")
		}
		inter := x509.NewCertPool()
		for _, ic := range st.PeerCertificates[1:] {
			inter.AddCert(ic)
		}
		leaf := st.PeerCertificates[0]
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter}); err != nil {
			return &tls.CertificateVerificationError{UnverifiedCertificates: st.PeerCertificates, Err: err}
		}
		if !matchCN(leaf.Subject.CommonName, cn, wild) {
			return &commonNameError{got: leaf.Subject.CommonName, want: cn}
		}
		return nil
	}
}

// commonNameError is a certificate whose CN is not the expected CommonName.
type commonNameError struct{ got, want string }

func (e *commonNameError) Error() string {
	return fmt.Sprintf("tls: certificate common name %q does not match the expected %q", e.got, e.want)
}

// matchCN compares a certificate CN with the expected one; with wildcard
// matching a leading "*." in want matches one label.
func matchCN(got, want string, wildcard bool) bool {
	if strings.EqualFold(got, want) {
		return true
	}
	if !wildcard || !strings.HasPrefix(want, "*.") {
		return false
	}
	i := strings.IndexByte(got, '.')
	return i > 0 && strings.EqualFold(got[i:], want[1:])
}

var tlsVersions = map[string]uint16{"TLSV1": tls.VersionTLS10, "TLSV1.0": tls.VersionTLS10, "TLSV1.1": tls.VersionTLS11,
	"TLSV1.2": tls.VersionTLS12, "TLSV1.3": tls.VersionTLS13}

func (s *sslInfo) versions(c *tls.Config) error {
	if len(s.protocols) == 0 {
		return nil
	}
	var lo, hi uint16
	for _, p := range s.protocols {
		v, ok := tlsVersions[strings.ToUpper(p)]
		if !ok {
			return fmt.Errorf("unknown TLS protocol %q (want TLSv1.2 or TLSv1.3)", p)
		}
		if lo == 0 || v < lo {
			lo = v
		}
		hi = max(hi, v)
	}
	c.MinVersion, c.MaxVersion = lo, hi
	return nil
}

func (s *sslInfo) cipherSuites(c *tls.Config) error {
	for _, name := range s.ciphers {
		id, ok := cipherID(name)
		if !ok {
			return fmt.Errorf("unknown cipher suite %q (use IANA names such as TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)", name)
		}
		c.CipherSuites = append(c.CipherSuites, id)
	}
	return nil
}

func cipherID(name string) (uint16, bool) {
	for _, list := range [][]*tls.CipherSuite{tls.CipherSuites(), tls.InsecureCipherSuites()} {
		for _, cs := range list {
			if strings.EqualFold(cs.Name, name) {
				return cs.ID, true
			}
		}
	}
	return 0, false
}

// storeName strips Apigee's "ref://" reference prefix.
func storeName(ref string) string {
	return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(ref), "ref://"))
}

// loadTrustStore reads the truststore NAME: <dir>/NAME.pem or <dir>/NAME.crt,
// a bundle of PEM certificates.
func loadTrustStore(dir, ref string) (*x509.CertPool, error) {
	name := storeName(ref)
	if err := checkStore(dir, name, "truststore"); err != nil {
		return nil, err
	}
	var tried []string
	for _, ext := range []string{".pem", ".crt"} {
		p := filepath.Join(dir, name+ext)
		b, err := os.ReadFile(p)
		if err != nil {
			tried = append(tried, p)
			continue
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("truststore %q: %s holds no PEM certificate", name, p)
		}
		return pool, nil
	}
	return nil, fmt.Errorf("truststore %q: none of %s exists", name, strings.Join(tried, ", "))
}

// loadKeyStore reads the key pair ALIAS of keystore NAME:
// <dir>/NAME/ALIAS.crt with <dir>/NAME/ALIAS.key, else <dir>/NAME.pem
// holding both the certificate chain and the key.
func loadKeyStore(dir, ref, alias string) (tls.Certificate, error) {
	name := storeName(ref)
	if err := checkStore(dir, name, "keystore"); err != nil {
		return tls.Certificate{}, err
	}
	if alias != "" {
		if strings.ContainsAny(alias, `/\`) || alias == ".." {
			return tls.Certificate{}, fmt.Errorf("key alias %q is not a plain name", alias)
		}
		crt, key := filepath.Join(dir, name, alias+".crt"), filepath.Join(dir, name, alias+".key")
		if _, err := os.Stat(crt); err == nil {
			c, err := tls.LoadX509KeyPair(crt, key)
			if err != nil {
				return c, fmt.Errorf("keystore %q alias %q: %w", name, alias, err)
			}
			return c, nil
		}
	}
	p := filepath.Join(dir, name+".pem")
	b, err := os.ReadFile(p)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("keystore %q: neither %s nor %s exists",
			name, filepath.Join(dir, name, alias+".crt"), p)
	}
	c, err := tls.X509KeyPair(b, b)
	if err != nil {
		return c, fmt.Errorf("keystore %q: %s: %w", name, p, err)
	}
	return c, nil
}

func checkStore(dir, name, what string) error {
	switch {
	case name == "":
		return fmt.Errorf("no %s named", what)
	case strings.ContainsAny(name, `/\`) || name == "." || name == "..":
		return fmt.Errorf("%s name %q is not a plain name", what, name)
	case dir == "":
		return fmt.Errorf("%s %q: no keystore folder (the environment's keystores/ folder) is configured", what, name)
	}
	return nil
}
