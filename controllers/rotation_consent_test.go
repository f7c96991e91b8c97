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

package controllers_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

// setCALabel sets or (with value "") removes the consent label of the world's CA bundle.
func (w *world) setCALabel(t *testing.T, value string) {
	t.Helper()
	v := "null"
	if value != "" {
		v = fmt.Sprintf("%q", value)
	}
	patch := []byte(fmt.Sprintf(`{"metadata":{"labels":{%q:%s}}}`, v1.LabelCredential, v))
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "tableau-ca", Namespace: w.ns}}
	if err := k8s.Patch(context.Background(), cm, client.RawPatch(types.MergePatchType, patch)); err != nil {
		t.Fatal(err)
	}
}

// A CA bundle whose owner withdrew consent is refused; a rotation that reaches promotion then
// must not sign in with the candidate without the bundle (a TLS failure there is not the
// candidate's fault and must not reject it): it waits, and goes on once consent is back.
func TestRefusedCABundleNeitherChecksNorRejectsTheCandidate(t *testing.T) {
	w := newWorld(t)
	w.soloTenant(t, "cab")
	// Hold the candidate before promotion (its restart target is missing).
	if err := k8s.Delete(context.Background(), &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "cab-app", Namespace: w.ns}}); err != nil {
		t.Fatal(err)
	}
	w.setSource(t, "cab", "cab-v2", w.pat(t, "cab", "cab-v2", false))
	waitFor(t, w.ns, "cab", "staged", func(c *v1.TableauConnection) bool { return rotationPhase(c) == v1.RotationStaged })
	w.setCALabel(t, "")
	waitFor(t, w.ns, "cab", "ConfigMapNotLabelled", func(c *v1.TableauConnection) bool {
		return c.Status.LastFailure != nil && c.Status.LastFailure.Reason == "ConfigMapNotLabelled"
	})
	signIns := w.sim.Calls("auth/signin")
	w.deployment(t, "cab-app", false)
	// Workloads are not watched: the operator looks at the missing target again within 5 s.
	waitFor(t, w.ns, "cab", "past staged", func(c *v1.TableauConnection) bool { return rotationPhase(c) != v1.RotationStaged })
	time.Sleep(2 * time.Second)
	c := get(t, w.ns, "cab")
	if rs := c.Status.Rotation; rs.FailedRevision != "" || rs.Phase == v1.RotationFailed || rs.CandidateRevision == "" {
		t.Errorf("a refused CA bundle rejected the candidate: %s", describe(c))
	}
	if got := w.sim.Calls("auth/signin"); got != signIns {
		t.Errorf("%d sign-ins while the CA bundle was refused", got-signIns)
	}
	if got := string(w.consumer(t, "cab").Data["tokenName"]); got != "cab-v1" {
		t.Errorf("consumer holds %s while the CA bundle was refused", got)
	}
	// Consent given again is enough: no spec edit, no wait for the hourly recheck.
	w.setCALabel(t, v1.CredentialConsent)
	w.settled(t, "cab", "cab-v2")
}

// A sibling name (-candidate, -previous) held by someone else's Secret is invisible to the
// cache, like a taken consumer name: before the first publish it is found by a direct read,
// before any Tableau call.
func TestForeignSiblingOfANewConnectionStopsBeforeAnyTableauCall(t *testing.T) {
	w := newWorld(t)
	w.deployment(t, "kin-app", false)
	w.setSource(t, "kin", "kin-v1", w.pat(t, "kin", "kin-v1", false))
	foreignSecret(t, w.ns, "kin-tableau-previous")
	create(t, w.tenantConnection("kin", func(c *v1.TableauConnection) { c.Labels = nil }))
	waitFor(t, w.ns, "kin", "ConsumersReady=False/SecretNameTaken", nameTaken)
	time.Sleep(time.Second)
	if calls := w.sim.AllCalls(); calls["auth/signin"] != 0 || calls["serverinfo"] != 0 {
		t.Errorf("the operator called Tableau while a sibling name was taken: %v", calls)
	}
	assertUntouched(t, w.ns, "kin-tableau-previous")
	if err := k8s.Delete(context.Background(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "kin-tableau-previous", Namespace: w.ns}}); err != nil {
		t.Fatal(err)
	}
	w.settled(t, "kin", "kin-v1")
}
