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

package rotation

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	. "github.com/tableau-operator/tableau-operator/internal/testenv/optest"
)

// A CA bundle whose owner withdrew consent is refused; a rotation that reaches promotion then
// must not sign in with the candidate without the bundle (a TLS failure there is not the
// candidate's fault and must not reject it): it waits, and goes on once consent is back.
func TestRefusedCABundleNeitherChecksNorRejectsTheCandidate(t *testing.T) {
	t.Parallel()
	w := NewWorld(t)
	w.SoloTenant(t, "cab")
	// Hold the candidate before promotion (its restart target is missing).
	if err := K8s().Delete(context.Background(), &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "cab-app", Namespace: w.NS}}); err != nil {
		t.Fatal(err)
	}
	w.SetSource(t, "cab", "cab-v2", w.Pat(t, "cab", "cab-v2", false))
	WaitFor(t, w.NS, "cab", "staged", func(c *v1.TableauConnection) bool { return RotationPhase(c) == v1.RotationStaged })
	w.SetCALabel(t, "")
	WaitFor(t, w.NS, "cab", "ConfigMapNotLabelled", func(c *v1.TableauConnection) bool {
		return c.Status.LastFailure != nil && c.Status.LastFailure.Reason == "ConfigMapNotLabelled"
	})
	signIns := w.Sim.Calls("auth/signin")
	w.Deployment(t, "cab-app", false)
	// Workloads are not watched: the operator looks at the missing target again within 5 s.
	WaitFor(t, w.NS, "cab", "past staged", func(c *v1.TableauConnection) bool { return RotationPhase(c) != v1.RotationStaged })
	time.Sleep(2 * time.Second)
	c := Get(t, w.NS, "cab")
	if rs := c.Status.Rotation; rs.FailedRevision != "" || rs.Phase == v1.RotationFailed || rs.CandidateRevision == "" {
		t.Errorf("a refused CA bundle rejected the candidate: %s", Describe(c))
	}
	if got := w.Sim.Calls("auth/signin"); got != signIns {
		t.Errorf("%d sign-ins while the CA bundle was refused", got-signIns)
	}
	if got := string(w.Consumer(t, "cab").Data["tokenName"]); got != "cab-v1" {
		t.Errorf("consumer holds %s while the CA bundle was refused", got)
	}
	// Consent given again is enough: no spec edit, no wait for the hourly recheck.
	w.SetCALabel(t, v1.CredentialConsent)
	w.Settled(t, "cab", "cab-v2")
}

// A sibling name (-candidate, -previous) held by someone else's Secret is invisible to the
// cache, like a taken consumer name: before the first publish it is found by a direct read,
// before any Tableau call.
func TestForeignSiblingOfANewConnectionStopsBeforeAnyTableauCall(t *testing.T) {
	t.Parallel()
	w := NewWorld(t)
	w.Deployment(t, "kin-app", false)
	w.SetSource(t, "kin", "kin-v1", w.Pat(t, "kin", "kin-v1", false))
	ForeignSecret(t, w.NS, "kin-tableau-previous")
	Create(t, w.TenantConnection("kin", func(c *v1.TableauConnection) { c.Labels = nil }))
	WaitFor(t, w.NS, "kin", "ConsumersReady=False/SecretNameTaken", NameTaken)
	time.Sleep(time.Second)
	if calls := w.Sim.AllCalls(); calls["auth/signin"] != 0 || calls["serverinfo"] != 0 {
		t.Errorf("the operator called Tableau while a sibling name was taken: %v", calls)
	}
	AssertUntouched(t, w.NS, "kin-tableau-previous")
	if err := K8s().Delete(context.Background(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "kin-tableau-previous", Namespace: w.NS}}); err != nil {
		t.Fatal(err)
	}
	w.Settled(t, "kin", "kin-v1")
}
