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

package automatic

import (
	"context"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	. "github.com/tableau-operator/tableau-operator/internal/testenv/optest"
)

// pruneAndResync deletes a connection as an Argo CD prune does, removes the Secrets it owned
// as the garbage collector would (envtest runs none), and re-creates it from the same
// manifest: the same name, labels and spec, a new UID and an empty status.
func pruneAndResync(t *testing.T, ns, name string) {
	t.Helper()
	old := Get(t, ns, name)
	ctx := context.Background()
	if err := K8s().Delete(ctx, old); err != nil {
		t.Fatal(err)
	}
	Eventually(t, 30*time.Second, name+" deleted", func() (bool, string) {
		err := K8s().Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &v1.TableauConnection{})
		return apierrors.IsNotFound(err), "still there"
	})
	var secrets corev1.SecretList
	if err := K8s().List(ctx, &secrets, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	for i := range secrets.Items {
		s := &secrets.Items[i]
		if slices.ContainsFunc(s.OwnerReferences, func(r metav1.OwnerReference) bool { return r.UID == old.UID }) {
			if err := K8s().Delete(ctx, s); client.IgnoreNotFound(err) != nil {
				t.Fatal(err)
			}
		}
	}
	Create(t, &v1.TableauConnection{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: old.Labels}, Spec: old.Spec})
}

// Issue 24: an Argo CD prune and re-sync after an automatic rotation. The issued Secret went
// with the old object; the retained consumer Secret holds the issued secret and the record of
// which of the person's secrets it superseded (deleted on Tableau by the rotation). The new
// connection signs in with the issued secret, is Ready, and rotates again.
func TestRecreatedConnectionSignsInWithTheIssuedSecretAndKeepsRotating(t *testing.T) {
	const n = "recreate"
	w := AutomaticTenants(t, nil, n)
	if p := Get(t, w.NS, n).Spec.Consumers.DeletionPolicy; p != v1.DeletionRetain {
		t.Fatalf("deletionPolicy %q, want the default Retain", p)
	}
	Current().Clock.Advance(RotateEvery + time.Minute)
	t.Cleanup(func() { Current().Clock.Reset() })
	Poke(t, w.NS, n)
	issued := w.AutomaticSettled(t, n, n+"-s1")
	if got := w.AppSecretIDs(t, n); !slices.Equal(got, []string{issued}) {
		t.Fatalf("after the rotation the app holds %v, want only %s (the person's %s-s1 retired)", got, issued, n)
	}
	if got := w.Consumer(t, n).Annotations[v1.AnnotationSupersedes]; got != "client-"+n+"#"+n+"-s1" {
		t.Fatalf("the consumer Secret records the supersession as %q", got)
	}

	rejectedBefore := len(w.Sim.JWTRejections())
	pruneAndResync(t, w.NS, n)
	// Ready with the issued secret, and its rollout settled (the new object's bundle planner
	// adopts the retained consumer Secret as a new connection does).
	c := w.AppSettled(t, n, issued)
	if got := w.Sim.JWTRejections()[rejectedBefore:]; len(got) > 0 {
		t.Errorf("the re-created connection signed in with a retired secret: Tableau refused %v", got)
	}
	if c.Status.Rotation == nil || c.Status.Rotation.IssuedSupersedes == "" {
		t.Errorf("the re-created connection did not adopt the supersession: %s", Describe(c))
	}
	WaitForEvent(t, w.NS, n, "Normal/SupersessionAdopted")

	// Automatic rotation keeps running: a second rotation completes and retires the issued
	// secret the first one created.
	Current().Clock.Advance(RotateEvery + time.Minute)
	Poke(t, w.NS, n)
	next := w.AutomaticSettled(t, n, issued)
	if got := w.AppSecretIDs(t, n); !slices.Equal(got, []string{next}) {
		t.Errorf("after the second rotation the app holds %v, want only %s", got, next)
	}
	if err := w.ConsumerAppSignsIn(t, n); err != nil {
		t.Errorf("consumers cannot sign in after the second rotation: %v", err)
	}
	if got := w.Consumer(t, n).Annotations[v1.AnnotationSupersedes]; got != "client-"+n+"#"+n+"-s1" {
		t.Errorf("the consumer Secret's record became %q", got)
	}
}

// The record is adopted only from a Secret the operator made for this connection: the same
// annotation on a Secret without the operator's mark (a person's copy of the managed label,
// without app.kubernetes.io/managed-by) is ignored, and the Secret is left as it is.
func TestSupersessionOnASecretTheOperatorDidNotMakeIsIgnored(t *testing.T) {
	const n = "foreign-mark"
	w := NewWorld(t)
	value := w.App(t, n, "client-"+n, n+"-s1")
	w.SetAppSource(t, n, "client-"+n, n+"-s1", value)
	impostor := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: n + "-tableau", Namespace: w.NS,
		Labels: map[string]string{v1.LabelCredential: v1.CredentialManaged},
		Annotations: map[string]string{v1.AnnotationConnection: n, v1.AnnotationConnectionUID: "an-earlier-connection",
			v1.AnnotationSupersedes: "client-" + n + "#" + n + "-s1"}},
		Data: map[string][]byte{"clientId": []byte("client-" + n), "secretId": []byte("issued-elsewhere"), "secretValue": []byte("not-a-secret-of-the-app")}}
	Create(t, impostor)
	Create(t, w.TenantConnection(n, AppConnection))
	// The name is taken by a Secret the operator did not make: it refuses it (no Tableau
	// call) rather than taking its content for the issued credential.
	c := WaitFor(t, w.NS, n, "the consumer Secret's name refused as taken", ReadyReason("SecretNameTaken"))
	if rs := c.Status.Rotation; rs != nil && rs.IssuedSupersedes != "" {
		t.Errorf("adopted %q from a Secret the operator did not make", rs.IssuedSupersedes)
	}
	if slices.Contains(EventReasons(t, w.NS, n), "Normal/SupersessionAdopted") {
		t.Error("told an adoption from a Secret the operator did not make")
	}
	var after corev1.Secret
	if err := K8s().Get(context.Background(), client.ObjectKeyFromObject(impostor), &after); err != nil {
		t.Fatal(err)
	}
	if after.ResourceVersion != impostor.ResourceVersion {
		t.Errorf("the operator wrote a Secret it did not make (resourceVersion %s, created as %s)", after.ResourceVersion, impostor.ResourceVersion)
	}
}
