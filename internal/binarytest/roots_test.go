/*
Copyright 2026 The tableau-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package binarytest

import (
	"crypto/x509"
	"debug/buildinfo"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	// What main.go imports for the binary, so that this test process, like the binary, has
	// the fallback roots; TestBinaryCarriesTheFallbackRoots checks that the binary does.
	_ "golang.org/x/crypto/x509roots/fallback"
)

// The image has no /etc/ssl: TLS to Tableau Cloud works only because main.go compiles in
// golang.org/x/crypto/x509roots/fallback. These tests prove it in two steps: the built binary
// links that package, and a process that links it verifies a public chain although its system
// roots are empty, as they are in the image.

// rootsChildEnv marks the re-executed child; TestMain skips building the operator for it.
const rootsChildEnv = "TABLEAU_OPERATOR_ROOTS_CHILD"

// letsEncryptR3 is Let's Encrypt's R3 intermediate (issuer ISRG Root X1, valid 2020-09-04 to
// 2025-09-15, SHA-256 fingerprint 67:AD:D1:16:...:37:61:3D:FD), public data published by the CA.
// It is kept here rather than in a top-level testdata/ folder, which the layout does not allow.
const letsEncryptR3 = `-----BEGIN CERTIFICATE-----
MIIFFjCCAv6gAwIBAgIRAJErCErPDBinU/bWLiWnX1owDQYJKoZIhvcNAQELBQAw
TzELMAkGA1UEBhMCVVMxKTAnBgNVBAoTIEludGVybmV0IFNlY3VyaXR5IFJlc2Vh
cmNoIEdyb3VwMRUwEwYDVQQDEwxJU1JHIFJvb3QgWDEwHhcNMjAwOTA0MDAwMDAw
WhcNMjUwOTE1MTYwMDAwWjAyMQswCQYDVQQGEwJVUzEWMBQGA1UEChMNTGV0J3Mg
RW5jcnlwdDELMAkGA1UEAxMCUjMwggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAwggEK
AoIBAQC7AhUozPaglNMPEuyNVZLD+ILxmaZ6QoinXSaqtSu5xUyxr45r+XXIo9cP
R5QUVTVXjJ6oojkZ9YI8QqlObvU7wy7bjcCwXPNZOOftz2nwWgsbvsCUJCWH+jdx
sxPnHKzhm+/b5DtFUkWWqcFTzjTIUu61ru2P3mBw4qVUq7ZtDpelQDRrK9O8Zutm
NHz6a4uPVymZ+DAXXbpyb/uBxa3Shlg9F8fnCbvxK/eG3MHacV3URuPMrSXBiLxg
Z3Vms/EY96Jc5lP/Ooi2R6X/ExjqmAl3P51T+c8B5fWmcBcUr2Ok/5mzk53cU6cG
/kiFHaFpriV1uxPMUgP17VGhi9sVAgMBAAGjggEIMIIBBDAOBgNVHQ8BAf8EBAMC
AYYwHQYDVR0lBBYwFAYIKwYBBQUHAwIGCCsGAQUFBwMBMBIGA1UdEwEB/wQIMAYB
Af8CAQAwHQYDVR0OBBYEFBQusxe3WFbLrlAJQOYfr52LFMLGMB8GA1UdIwQYMBaA
FHm0WeZ7tuXkAXOACIjIGlj26ZtuMDIGCCsGAQUFBwEBBCYwJDAiBggrBgEFBQcw
AoYWaHR0cDovL3gxLmkubGVuY3Iub3JnLzAnBgNVHR8EIDAeMBygGqAYhhZodHRw
Oi8veDEuYy5sZW5jci5vcmcvMCIGA1UdIAQbMBkwCAYGZ4EMAQIBMA0GCysGAQQB
gt8TAQEBMA0GCSqGSIb3DQEBCwUAA4ICAQCFyk5HPqP3hUSFvNVneLKYY611TR6W
PTNlclQtgaDqw+34IL9fzLdwALduO/ZelN7kIJ+m74uyA+eitRY8kc607TkC53wl
ikfmZW4/RvTZ8M6UK+5UzhK8jCdLuMGYL6KvzXGRSgi3yLgjewQtCPkIVz6D2QQz
CkcheAmCJ8MqyJu5zlzyZMjAvnnAT45tRAxekrsu94sQ4egdRCnbWSDtY7kh+BIm
lJNXoB1lBMEKIq4QDUOXoRgffuDghje1WrG9ML+Hbisq/yFOGwXD9RiX8F6sw6W4
avAuvDszue5L3sz85K+EC4Y/wFVDNvZo4TYXao6Z0f+lQKc0t8DQYzk1OXVu8rp2
yJMC6alLbBfODALZvYH7n7do1AZls4I9d1P4jnkDrQoxB3UqQ9hVl3LEKQ73xF1O
yK5GhDDX8oVfGKF5u+decIsH4YaTw7mP3GFxJSqv3+0lUFJoi5Lc5da149p90Ids
hCExroL1+7mryIkXPeFM5TgO9r0rvZaBFOvV2z0gp35Z0+L4WPlbuEjN/lxPFin+
HlUjr8gRsI3qfJOQFy/9rKIJR0Y/8Omwt/8oTWgy1mdeHmmjk7j1nYsvC9JSQ6Zv
MldlTTKB3zhThV1+XWYp6rjd5JW1zbVWEkLNxE7GJThEUG3szgBVGP7pSWTUTsqX
nLRbwHOoq7hHwg==
-----END CERTIFICATE-----
`

// verifiedMarker is printed by the child after a successful verification, so the parent
// knows the verification ran (a -test.run that matched nothing would also exit 0).
const verifiedMarker = "verified Let's Encrypt R3 up to ISRG Root X1 without host roots"

// TestBinaryCarriesTheFallbackRoots: the binary TestMain built from main.go links the
// fallback roots (its module is listed only when one of its packages is linked).
func TestBinaryCarriesTheFallbackRoots(t *testing.T) {
	t.Parallel()
	bi, err := buildinfo.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(bi.Deps, func(m *debug.Module) bool { return m.Path == "golang.org/x/crypto/x509roots/fallback" }) {
		t.Fatal("the binary lacks golang.org/x/crypto/x509roots/fallback, so TLS has no CA roots in the image")
	}
}

// TestPublicCAChainWithoutHostRoots re-runs itself with SSL_CERT_FILE and SSL_CERT_DIR on an
// empty file and directory: Go loads system roots once, when the fallback package registers,
// so only a fresh process sees the empty store.
func TestPublicCAChainWithoutHostRoots(t *testing.T) {
	t.Parallel()
	if os.Getenv(rootsChildEnv) != "" {
		verifyPublicChain(t)
		return
	}
	empty := t.TempDir()
	emptyFile := filepath.Join(empty, "no-roots.pem")
	if err := os.WriteFile(emptyFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestPublicCAChainWithoutHostRoots$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), rootsChildEnv+"=1", "SSL_CERT_FILE="+emptyFile, "SSL_CERT_DIR="+empty)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the child without host roots failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), verifiedMarker) {
		t.Fatalf("the child did not verify the chain:\n%s", out)
	}
}

func verifyPublicChain(t *testing.T) {
	block, _ := pem.Decode([]byte(letsEncryptR3))
	if block == nil {
		t.Fatal("the test certificate is not PEM")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC) // inside the certificate's validity

	// Control: with an empty pool the same certificate does not verify, so success below
	// comes from the roots the process has, not from the certificate.
	_, err = cert.Verify(x509.VerifyOptions{Roots: x509.NewCertPool(), CurrentTime: at})
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Fatalf("with no roots, want an unknown-authority error, got %v", err)
	}

	// nil Roots is what crypto/tls and the Tableau client use: the system pool, which on an
	// empty store is the compiled-in fallback bundle.
	chains, err := cert.Verify(x509.VerifyOptions{CurrentTime: at})
	if err != nil {
		t.Fatalf("Let's Encrypt R3 does not verify against the process's roots (SSL_CERT_FILE=%q, SSL_CERT_DIR=%q): %v",
			os.Getenv("SSL_CERT_FILE"), os.Getenv("SSL_CERT_DIR"), err)
	}
	root := chains[0][len(chains[0])-1]
	if root.Subject.CommonName != "ISRG Root X1" {
		t.Fatalf("the chain ends at %q, want ISRG Root X1", root.Subject.CommonName)
	}
	// SystemCertPool is what the client extends with a connection's private CA bundle.
	pool, err := x509.SystemCertPool()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: at}); err != nil {
		t.Fatalf("not verified against SystemCertPool: %v", err)
	}
	t.Log(verifiedMarker)
}
