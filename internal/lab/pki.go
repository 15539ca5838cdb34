package lab

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// pki is everything the lab's components authenticate with, generated in Go
// for each run: a cluster CA (API server and adapter serving certificates), a
// front-proxy CA with the aggregator's client certificate, a service-account
// key pair and one admin token.
type pki struct {
	dir string

	CACert, CAKey                   string // cluster CA
	APIServerCert, APIServerKey     string
	FrontProxyCA                    string
	FrontProxyClient, FrontProxyKey string
	SAKey, SAPub                    string
	TokenFile                       string // the API server's --token-auth-file
	TokenOnly                       string // the bare token, for credentials_file
	Token                           string
	CAPEM                           []byte

	ca    *x509.Certificate
	caKey *ecdsa.PrivateKey
}

func newPKI(dir string, apiserverIPs []net.IP) (*pki, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	p := &pki{dir: dir}
	ca, caKey, caPEM, err := newCA("dojo-lab-ca")
	if err != nil {
		return nil, err
	}
	p.ca, p.caKey, p.CAPEM = ca, caKey, caPEM
	if p.CACert, err = p.write("ca.crt", caPEM); err != nil {
		return nil, err
	}
	if p.CAKey, err = p.writeKey("ca.key", caKey); err != nil {
		return nil, err
	}
	if p.APIServerCert, p.APIServerKey, err = p.Serving("apiserver", "kube-apiserver",
		append([]net.IP{net.IPv4(127, 0, 0, 1)}, apiserverIPs...),
		[]string{"kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", "localhost"}); err != nil {
		return nil, err
	}
	fpCA, fpKey, fpPEM, err := newCA("dojo-lab-front-proxy-ca")
	if err != nil {
		return nil, err
	}
	if p.FrontProxyCA, err = p.write("front-proxy-ca.crt", fpPEM); err != nil {
		return nil, err
	}
	if p.FrontProxyClient, p.FrontProxyKey, err = p.sign(fpCA, fpKey, "front-proxy-client",
		&x509.Certificate{Subject: pkix.Name{CommonName: "front-proxy-client"}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		return nil, err
	}
	saKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	if p.SAKey, err = p.writeKey("sa.key", saKey); err != nil {
		return nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(&saKey.PublicKey)
	if err != nil {
		return nil, err
	}
	if p.SAPub, err = p.write("sa.pub", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})); err != nil {
		return nil, err
	}
	tok := make([]byte, 24)
	if _, err := rand.Read(tok); err != nil {
		return nil, err
	}
	p.Token = hex.EncodeToString(tok)
	if p.TokenFile, err = p.write("tokens.csv", []byte(p.Token+`,admin,admin,"system:masters"`+"\n")); err != nil {
		return nil, err
	}
	if p.TokenOnly, err = p.write("token", []byte(p.Token)); err != nil {
		return nil, err
	}
	return p, nil
}

// Serving issues a serving certificate signed by the cluster CA.
func (p *pki) Serving(name, cn string, ips []net.IP, dns []string) (cert, key string, err error) {
	return p.sign(p.ca, p.caKey, name, &x509.Certificate{
		Subject:     pkix.Name{CommonName: cn},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: ips,
		DNSNames:    dns,
	})
}

func newCA(cn string) (*x509.Certificate, *ecdsa.PrivateKey, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(48 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, nil, err
	}
	return cert, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

func (p *pki) sign(ca *x509.Certificate, caKey *ecdsa.PrivateKey, name string, tmpl *x509.Certificate) (cert, key string, err error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	tmpl.SerialNumber = serial()
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(48 * time.Hour)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
	if err != nil {
		return "", "", fmt.Errorf("sign %s: %w", name, err)
	}
	if cert, err = p.write(name+".crt", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})); err != nil {
		return "", "", err
	}
	if key, err = p.writeKey(name+".key", k); err != nil {
		return "", "", err
	}
	return cert, key, nil
}

func (p *pki) write(name string, data []byte) (string, error) {
	path := filepath.Join(p.dir, name)
	return path, os.WriteFile(path, data, 0o600)
}

func (p *pki) writeKey(name string, k *ecdsa.PrivateKey) (string, error) {
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		return "", err
	}
	return p.write(name, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return big.NewInt(time.Now().UnixNano())
	}
	return n
}
