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
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/testenv"
)

// TestMetricsEndpointAuthenticatesAndAuthorizes installs config/default, runs the operator as
// its ServiceAccount with the default (secure) metrics flags, and scrapes it: no token gets
// 401, a token without the metrics-reader role 403, and one with it 200 and the metrics.
func TestMetricsEndpointAuthenticatesAndAuthorizes(t *testing.T) {
	t.Parallel()
	cp := startControlPlane(t)
	install := filepath.Join(testenv.RepoRoot(), "config", "default")
	args := deploymentArgs(t, cp.kubectl(t, "", "kustomize", install), "tableau-operator-system")
	cp.kubectl(t, "", "apply", "--server-side", "--force-conflicts", "-k", install)
	operator := cp.serviceAccountKubeconfig(t, "tableau-operator-system", "tableau-operator-controller-manager")

	cp.createNamespace(t, "monitoring")
	cp.createServiceAccount(t, "monitoring", "prometheus")
	cp.createServiceAccount(t, "monitoring", "stranger")
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "prometheus-reads-tableau-operator"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "tableau-operator-metrics-reader"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: "monitoring", Name: "prometheus"}},
	}
	if err := cp.k8s.Create(context.Background(), binding); err != nil {
		t.Fatal(err)
	}
	reader, stranger := cp.token(t, "monitoring", "prometheus"), cp.token(t, "monitoring", "stranger")

	// One connection, so that the operator has reconciled something worth scraping.
	cp.createNamespace(t, "tenants")
	conn := &v1.TableauConnection{ObjectMeta: metav1.ObjectMeta{Namespace: "tenants", Name: "finance"}, Spec: v1.TableauConnectionSpec{
		Server: "https://tableau.example.com", APIVersion: "3.24",
		Auth: v1.AuthSpec{PersonalAccessToken: &v1.PersonalAccessTokenAuth{SecretRef: v1.PATSecretReference{Name: "finance-pat"}}},
	}}
	if err := cp.k8s.Create(context.Background(), conn); err != nil {
		t.Fatal(err)
	}

	// The Deployment's args, so the metrics server is the one a cluster gets (secure by default).
	var addr string
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--metrics-bind-address="); ok {
			addr = v
		}
	}
	log := startOperator(t, operator, args...)
	eventually(t, 60*time.Second, "the connection's first status", func() (bool, string) {
		var got v1.TableauConnection
		if err := cp.k8s.Get(context.Background(), types.NamespacedName{Namespace: "tenants", Name: "finance"}, &got); err != nil {
			return false, err.Error()
		}
		return got.Status.ObservedGeneration == got.Generation, fmt.Sprintf("status %+v", got.Status)
	})

	httpsClient := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		// The metrics server's certificate is self-signed, as in a cluster without cert-manager.
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // test client of a self-signed server
	}}
	scrape := func(scheme, token string) (int, string, error) {
		req, err := http.NewRequest(http.MethodGet, scheme+"://"+addr+"/metrics", nil)
		if err != nil {
			return 0, "", err
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := httpsClient.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer func() { _ = resp.Body.Close() }()
		body, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), err
	}

	var code int
	eventually(t, 30*time.Second, "the metrics server answering", func() (bool, string) {
		var err error
		code, _, err = scrape("https", "")
		return err == nil, fmt.Sprint(err)
	})
	if code != http.StatusUnauthorized {
		t.Errorf("scrape without a token: HTTP %d, want 401", code)
	}
	// A token that is not a JWT at all fails the TokenReview itself, which controller-runtime's
	// filter answers with 500; what matters is that it gets no metrics.
	if code, body, err := scrape("https", "not-a-token"); err != nil || code == http.StatusOK || strings.Contains(body, "tableau_operator_") {
		t.Errorf("scrape with a forged token: HTTP %d (%v), got metrics or no answer", code, err)
	}
	if code, body, err := scrape("https", stranger); err != nil || code != http.StatusForbidden {
		t.Errorf("scrape with a token lacking metrics-reader: HTTP %d (%v) %q, want 403", code, err, body)
	}
	if code, body, err := scrape("http", reader); err == nil && code == http.StatusOK {
		t.Errorf("plain HTTP served the metrics (HTTP %d, %d bytes); only HTTPS may", code, len(body))
	}
	code, body, err := scrape("https", reader)
	if err != nil || code != http.StatusOK {
		t.Fatalf("scrape with metrics-reader: HTTP %d (%v) %q, want 200", code, err, body)
	}
	for _, name := range []string{"tableau_operator_status_writes_total", "tableau_operator_connection_ready",
		`controller_runtime_reconcile_total{controller="tableauconnection"`} {
		if !strings.Contains(body, name) {
			t.Errorf("metrics lack %s:\n%s", name, body)
		}
	}
	if strings.Contains(log.String(), "forbidden") {
		t.Errorf("the operator was refused something its ClusterRoles should allow:\n%s", log.String())
	}
	cp.requireLeaderLease(t, "tableau-operator-system")
}
