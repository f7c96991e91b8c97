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

package optest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/tableau"
	"github.com/tableau-operator/tableau-operator/internal/tableausim"
	"github.com/tableau-operator/tableau-operator/internal/testenv"
)

// World is a namespace of tenants on one simulated server, with a stand-in for the
// Deployment controller (envtest runs none): it marks Deployments rolled out a moment after
// their template changes, except those labelled broken.
type World struct {
	Sim  *tableausim.Simulator
	Srv  *tableausim.Server
	NS   string
	pats map[string]string // token name -> secret
	mu   sync.Mutex
}

// NewWorld makes a world: a simulator serving TLS, a namespace with its CA bundle, and the Deployment stand-in.
func NewWorld(t *testing.T) *World {
	t.Helper()
	sim := tableausim.New(tableausim.Config{RESTAPIVersion: "3.24"})
	srv, err := sim.ServeTLS("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	w := &World{Sim: sim, Srv: srv, NS: NewNamespace(t), pats: map[string]string{}}
	Create(t, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "tableau-ca", Namespace: w.NS, Labels: Consent}, Data: map[string]string{"ca.crt": string(srv.CAPEM)}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		testenv.PlayDeploymentController(ctx, K8s(), w.NS, 700*time.Millisecond, func(d *appsv1.Deployment) bool { return d.Labels["test/broken"] == "true" })
	}()
	return w
}

// Pat creates a PAT on site and returns its secret; revoked PATs are revoked at once.
func (w *World) Pat(t *testing.T, site, name string, revoked bool) string {
	t.Helper()
	w.Sim.AddSite(site, site)
	secret := RandomSecret()
	Current().Secrets.Add(secret)
	if err := w.Sim.AddPAT(site, tableausim.PAT{Name: name, Secret: secret, Expires: time.Now().Add(90 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if revoked {
		if err := w.Sim.RevokePAT(site, name); err != nil {
			t.Fatal(err)
		}
	}
	return secret
}

// SetSource writes (or rewrites) the tenant's source Secret with a PAT.
func (w *World) SetSource(t *testing.T, tenant, tokenName, secret string) {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: tenant + "-source", Namespace: w.NS, Labels: Consent}}
	err := K8s().Get(context.Background(), client.ObjectKeyFromObject(s), s)
	s.Data = map[string][]byte{"tokenName": []byte(tokenName), "tokenSecret": []byte(secret)}
	if err != nil {
		Create(t, s)
		return
	}
	if err := K8s().Update(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

// Deployment creates a Deployment the rollouts restart; a broken one never becomes ready.
func (w *World) Deployment(t *testing.T, name string, broken bool) {
	t.Helper()
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: w.NS}, Spec: appsv1.DeploymentSpec{
		Replicas: ptr.To[int32](1),
		Selector: &metav1.LabelSelector{MatchLabels: labels},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "example.com/app:1"}}}},
	}}
	if broken {
		d.Labels = map[string]string{"test/broken": "true"}
	}
	Create(t, d)
}

// SetBroken makes a Deployment's rollouts complete again, or never.
func (w *World) SetBroken(t *testing.T, name string, broken bool) {
	t.Helper()
	d := &appsv1.Deployment{}
	if err := K8s().Get(context.Background(), client.ObjectKey{Namespace: w.NS, Name: name}, d); err != nil {
		t.Fatal(err)
	}
	d.Labels = map[string]string{"test/broken": fmt.Sprint(broken)}
	if err := K8s().Update(context.Background(), d); err != nil {
		t.Fatal(err)
	}
}

// TenantConnection is a connection with consumers and one restart target.
func (w *World) TenantConnection(name string, mutate ...func(*v1.TableauConnection)) *v1.TableauConnection {
	c := &v1.TableauConnection{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: w.NS, Labels: map[string]string{"fleet": "wave"}},
		Spec: v1.TableauConnectionSpec{
			Server: w.Srv.URL, Site: name, APIVersion: "3.24",
			Auth: v1.AuthSpec{PersonalAccessToken: &v1.PersonalAccessTokenAuth{SecretRef: v1.PATSecretReference{Name: name + "-source", TokenNameKey: "tokenName", TokenSecretKey: "tokenSecret"}}},
			TLS:  &v1.TLSSpec{CABundle: &v1.CABundleSource{Kind: "ConfigMap", Name: "tableau-ca", Key: "ca.crt"}},
			Consumers: &v1.ConsumersSpec{SecretName: name + "-tableau",
				RestartTargets: []v1.RestartTarget{{Kind: "Deployment", Name: name + "-app"}}},
			Rotation: v1.RotationSpec{HealthCheck: v1.RotationHealthCheck{Timeout: &metav1.Duration{Duration: 30 * time.Second}}},
		},
	}
	for _, m := range mutate {
		m(c)
	}
	return c
}

// Consumer reads the consumer Secret the operator publishes for the tenant.
func (w *World) Consumer(t *testing.T, name string) *corev1.Secret {
	t.Helper()
	s := &corev1.Secret{}
	if err := K8s().Get(context.Background(), client.ObjectKey{Namespace: w.NS, Name: name + "-tableau"}, s); err != nil {
		t.Fatalf("consumer Secret of %s: %v", name, err)
	}
	return s
}

// ConsumerSignsIn asks the simulator whether the consumer Secret's credential works now.
func (w *World) ConsumerSignsIn(t *testing.T, name string) error {
	t.Helper()
	s := w.Consumer(t, name)
	c, err := tableau.New(tableau.Options{Server: string(s.Data["server"]), APIVersion: string(s.Data["apiVersion"]), CACertPEM: w.Srv.CAPEM})
	if err != nil {
		return err
	}
	sess, err := c.SignInWithPAT(context.Background(), string(s.Data["site"]), tableau.PersonalAccessToken{Name: string(s.Data["tokenName"]), Secret: tableau.NewSecret(string(s.Data["tokenSecret"]))})
	if err != nil {
		return err
	}
	return c.SignOut(context.Background(), sess)
}

// RestartedAt is the restart annotation the operator last put on the tenant's Deployment.
func (w *World) RestartedAt(t *testing.T, name string) string {
	t.Helper()
	d := &appsv1.Deployment{}
	if err := K8s().Get(context.Background(), client.ObjectKey{Namespace: w.NS, Name: name + "-app"}, d); err != nil {
		t.Fatal(err)
	}
	return d.Spec.Template.Annotations[v1.AnnotationRestartedAt]
}

// SecretExists reports whether the Secret exists.
func SecretExists(t *testing.T, ns, name string) bool {
	t.Helper()
	err := K8s().Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &corev1.Secret{})
	return err == nil
}

// RotationPhase is the connection's rotation phase, or "" before the first.
func RotationPhase(c *v1.TableauConnection) string {
	if c.Status.Rotation == nil {
		return ""
	}
	return c.Status.Rotation.Phase
}

// Settled waits until the tenant's rotation is idle with the given token active.
func (w *World) Settled(t *testing.T, name, token string) *v1.TableauConnection {
	t.Helper()
	c := WaitFor(t, w.NS, name, name+" idle with "+token, func(c *v1.TableauConnection) bool {
		return RotationPhase(c) == v1.RotationIdle && c.Status.Rotation.ActiveRevision != "" && IsReady(c) &&
			c.Status.Credentials.TokenName == token && c.Status.Rotation.ActiveRevision == c.Status.Credentials.Revision
	})
	if got := string(w.Consumer(t, name).Data["tokenName"]); got != token {
		t.Fatalf("%s consumer holds %s, want %s", name, got, token)
	}
	return c
}

// NewFleet creates the fleet "wave" of the connections labelled fleet=wave in ns.
func NewFleet(t *testing.T, ns string, mutate ...func(*v1.TableauFleet)) *v1.TableauFleet {
	t.Helper()
	f := &v1.TableauFleet{ObjectMeta: metav1.ObjectMeta{Name: "wave", Namespace: ns},
		Spec: v1.TableauFleetSpec{Selector: metav1.LabelSelector{MatchLabels: map[string]string{"fleet": "wave"}}}}
	for _, m := range mutate {
		m(f)
	}
	Create(t, f)
	return f
}

// GetFleet reads the fleet "wave" of ns.
func GetFleet(t *testing.T, ns string) *v1.TableauFleet {
	t.Helper()
	f := &v1.TableauFleet{}
	if err := K8s().Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "wave"}, f); err != nil {
		t.Fatal(err)
	}
	return f
}

// SetupFleet makes tenants with a first PAT each, published to their consumers.
func SetupFleet(t *testing.T, names ...string) *World {
	t.Helper()
	w := NewWorld(t)
	NewFleet(t, w.NS)
	for _, n := range names {
		w.Deployment(t, n+"-app", false)
		w.SetSource(t, n, n+"-v1", w.Pat(t, n, n+"-v1", false))
		Create(t, w.TenantConnection(n))
	}
	for _, n := range names {
		w.Settled(t, n, n+"-v1")
	}
	return w
}
