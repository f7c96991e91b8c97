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
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/tableausim"
)

// These tests pin the rotation's safety promises: the operator writes and deletes only its
// own Secrets, keeps the live credential when its objects go away, converges the consumer
// Secret, signs in with the PAT consumers hold only when its inputs changed, and treats a
// transient failure as transient everywhere.

func foreignSecret(t *testing.T, ns, name string) *corev1.Secret {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Data: map[string][]byte{"mine": []byte("keep me")}}
	create(t, s)
	return s
}

func getSecret(t *testing.T, ns, name string) *corev1.Secret {
	t.Helper()
	s := &corev1.Secret{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, s); err != nil {
		t.Fatalf("Secret %s: %v", name, err)
	}
	return s
}

func assertUntouched(t *testing.T, ns, name string) {
	t.Helper()
	s := getSecret(t, ns, name)
	if string(s.Data["mine"]) != "keep me" || len(s.Data) != 1 || len(s.OwnerReferences) != 0 || s.Labels[v1.LabelCredential] != "" {
		t.Errorf("the operator touched Secret %s, which is not its own: data keys %d, owners %v, labels %v", name, len(s.Data), s.OwnerReferences, s.Labels)
	}
}

// soloTenant makes a tenant outside any fleet with its first PAT published to its consumers.
func (w *world) soloTenant(t *testing.T, name string, mutate ...func(*v1.TableauConnection)) *v1.TableauConnection {
	t.Helper()
	w.deployment(t, name+"-app", false)
	w.setSource(t, name, name+"-v1", w.pat(t, name, name+"-v1", false))
	create(t, w.tenantConnection(name, append([]func(*v1.TableauConnection){func(c *v1.TableauConnection) { c.Labels = nil }}, mutate...)...))
	return w.settled(t, name, name+"-v1")
}

func nameTaken(c *v1.TableauConnection) bool {
	cr := condition(c, v1.ConditionConsumersReady)
	return cr.Status == metav1.ConditionFalse && cr.Reason == v1.ReasonSecretNameTaken
}

func TestForeignConsumerSecretIsNeitherOverwrittenNorAdopted(t *testing.T) {
	w := newWorld(t)
	w.deployment(t, "taken-app", false)
	w.setSource(t, "taken", "taken-v1", w.pat(t, "taken", "taken-v1", false))
	foreignSecret(t, w.ns, "taken-tableau")
	create(t, w.tenantConnection("taken", func(c *v1.TableauConnection) { c.Labels = nil }))
	c := waitFor(t, w.ns, "taken", "ConsumersReady=False/SecretNameTaken", nameTaken)
	if msg := condition(c, v1.ConditionConsumersReady).Message; !strings.Contains(msg, `"taken-tableau"`) || !strings.Contains(msg, "spec.consumers.secretName") {
		t.Errorf("ConsumersReady message = %q", msg)
	}
	if r := condition(c, v1.ConditionReady); r.Status != metav1.ConditionFalse || condition(c, v1.ConditionStalled).Status != metav1.ConditionTrue {
		t.Errorf("Ready = %+v, Stalled = %+v", r, condition(c, v1.ConditionStalled))
	}
	rv := c.ResourceVersion
	time.Sleep(2 * time.Second)
	if calls := w.sim.AllCalls(); calls["auth/signin"] != 0 || calls["serverinfo"] != 0 {
		t.Errorf("the operator called Tableau while the consumer name was taken: %v", calls)
	}
	if now := get(t, w.ns, "taken"); now.ResourceVersion != rv {
		t.Errorf("status kept changing while nothing changed: %s", describe(now))
	}
	assertUntouched(t, w.ns, "taken-tableau")
	// Once the person removes their Secret, the operator publishes its own.
	if err := k8s.Delete(context.Background(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "taken-tableau", Namespace: w.ns}}); err != nil {
		t.Fatal(err)
	}
	w.settled(t, "taken", "taken-v1")
}

func TestForeignSiblingStopsARotationBeforeAnyWrite(t *testing.T) {
	w := newWorld(t)
	w.soloTenant(t, "sib")
	foreignSecret(t, w.ns, "sib-tableau-previous")
	foreignSecret(t, w.ns, "sib-tableau-candidate")
	w.setSource(t, "sib", "sib-v2", w.pat(t, "sib", "sib-v2", false))
	waitFor(t, w.ns, "sib", "ConsumersReady=False/SecretNameTaken", nameTaken)
	time.Sleep(time.Second)
	assertUntouched(t, w.ns, "sib-tableau-previous")
	assertUntouched(t, w.ns, "sib-tableau-candidate")
	if got := string(w.consumer(t, "sib").Data["tokenName"]); got != "sib-v1" {
		t.Errorf("consumer holds %s while a sibling name is taken", got)
	}
}

func TestDeletionPolicyAndMissingRestartTarget(t *testing.T) {
	w := newWorld(t)
	keep := w.soloTenant(t, "keep")
	drop := w.soloTenant(t, "drop", func(c *v1.TableauConnection) { c.Spec.Consumers.DeletionPolicy = v1.DeletionDelete })
	// envtest runs no garbage collector: the owner references are what it would act on.
	ks := w.consumer(t, "keep")
	if len(ks.OwnerReferences) != 0 {
		t.Errorf("deletionPolicy Retain: consumer Secret has owner references %v", ks.OwnerReferences)
	}
	if ks.Labels[v1.LabelCredential] != v1.CredentialManaged || ks.Labels[v1.LabelManagedBy] != v1.ManagedByValue ||
		ks.Annotations[v1.AnnotationConnection] != "keep" || ks.Annotations[v1.AnnotationConnectionUID] != string(keep.UID) {
		t.Errorf("consumer Secret lacks the operator's mark: labels %v annotations %v", ks.Labels, ks.Annotations)
	}
	if refs := w.consumer(t, "drop").OwnerReferences; len(refs) != 1 || refs[0].UID != drop.UID || refs[0].Controller == nil || !*refs[0].Controller {
		t.Errorf("deletionPolicy Delete: consumer Secret owner references %v", refs)
	}
	// A restart target that does not exist stops the rotation before promotion, with the
	// reason, instead of a health gate that times out.
	if err := k8s.Delete(context.Background(), &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "keep-app", Namespace: w.ns}}); err != nil {
		t.Fatal(err)
	}
	w.setSource(t, "keep", "keep-v2", w.pat(t, "keep", "keep-v2", false))
	c := waitFor(t, w.ns, "keep", "a missing restart target reported", func(c *v1.TableauConnection) bool {
		return rotationPhase(c) == v1.RotationStaged && c.Status.Rotation.Reason == "RestartTargetMissing"
	})
	if !strings.Contains(c.Status.Rotation.Message, "Deployment/keep-app") {
		t.Errorf("rotation message = %q", c.Status.Rotation.Message)
	}
	cand := getSecret(t, w.ns, "keep-tableau-candidate")
	if len(cand.OwnerReferences) != 1 || cand.OwnerReferences[0].UID != keep.UID {
		t.Errorf("the staged copy is not owned by its connection: %v", cand.OwnerReferences)
	}
	time.Sleep(time.Second)
	if got := string(w.consumer(t, "keep").Data["tokenName"]); got != "keep-v1" || rotationPhase(get(t, w.ns, "keep")) != v1.RotationStaged {
		t.Errorf("with a missing target the consumer holds %s, phase %s", got, rotationPhase(get(t, w.ns, "keep")))
	}
	// Deleting the connection leaves the live credential in place.
	if err := k8s.Delete(context.Background(), get(t, w.ns, "keep")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if !secretExists(t, w.ns, "keep-tableau") {
		t.Error("deleting the connection deleted its consumer Secret under deletionPolicy Retain")
	}
}

func TestConsumerSecretConvergesWithoutSigningInWithTheLivePAT(t *testing.T) {
	w := newWorld(t)
	w.soloTenant(t, "conv")
	signIns := w.sim.Calls("auth/signin")
	// A person deletes the consumer Secret: it comes back with the active credential.
	if err := k8s.Delete(context.Background(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "conv-tableau", Namespace: w.ns}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the consumer Secret to be recreated", func() (bool, string) {
		return secretExists(t, w.ns, "conv-tableau"), "missing"
	})
	w.settled(t, "conv", "conv-v1")
	if err := w.consumerSignsIn(t, "conv"); err != nil {
		t.Errorf("the recreated consumer credential does not sign in: %v", err)
	}
	// A new pinned API version reaches the bundle, rolled out with a restart, validated by
	// serverinfo only.
	restarted := w.restartedAt(t, "conv")
	c := get(t, w.ns, "conv")
	before := c.DeepCopy()
	c.Spec.APIVersion = "3.23"
	if err := k8s.Patch(context.Background(), c, client.MergeFrom(before)); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "apiVersion 3.23 in the consumer Secret", func() (bool, string) {
		got := string(w.consumer(t, "conv").Data["apiVersion"])
		return got == "3.23" && rotationPhase(get(t, w.ns, "conv")) == v1.RotationIdle, got
	})
	if w.restartedAt(t, "conv") == restarted {
		t.Error("the bundle changed without restarting its consumers")
	}
	// The consumer's own sign-ins (consumerSignsIn) count too: one above.
	if got := w.sim.Calls("auth/signin"); got != signIns+1 {
		t.Errorf("the operator signed in %d times with the PAT consumers hold", got-signIns-1)
	}
}

func TestSpecEditsAndARestoredSecretDoNotSignIn(t *testing.T) {
	w := newWorld(t)
	w.deployment(t, "calm-app", false)
	secret := w.pat(t, "calm", "calm-v1", false)
	w.setSource(t, "calm", "calm-v1", secret)
	create(t, w.tenantConnection("calm", func(c *v1.TableauConnection) { c.Labels = nil }))
	w.settled(t, "calm", "calm-v1")
	signIns := w.sim.Calls("auth/signin")
	edit := func(f func(c *v1.TableauConnection)) {
		t.Helper()
		c := get(t, w.ns, "calm")
		before := c.DeepCopy()
		f(c)
		if err := k8s.Patch(context.Background(), c, client.MergeFrom(before)); err != nil {
			t.Fatal(err)
		}
		waitFor(t, w.ns, "calm", "the edit observed", func(*v1.TableauConnection) bool { return true })
	}
	edit(func(c *v1.TableauConnection) { c.Spec.Suspend = true })
	edit(func(c *v1.TableauConnection) { c.Spec.Suspend = false })
	edit(func(c *v1.TableauConnection) { c.Spec.Rotation.MaxAge = &metav1.Duration{Duration: 48 * time.Hour} })
	edit(func(c *v1.TableauConnection) {
		c.Spec.Rotation.HealthCheck.Timeout = &metav1.Duration{Duration: time.Minute}
	})
	// The source Secret disappears and comes back with the same PAT.
	if err := k8s.Delete(context.Background(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "calm-source", Namespace: w.ns}}); err != nil {
		t.Fatal(err)
	}
	c := waitFor(t, w.ns, "calm", "the missing source reported", readyReason("SecretNotFound"))
	if cv := condition(c, v1.ConditionCandidateValid); cv.Status == metav1.ConditionFalse || rotationPhase(c) == v1.RotationFailed {
		t.Errorf("a missing source Secret was taken for a rejected candidate: %s", describe(c))
	}
	w.setSource(t, "calm", "calm-v1", secret)
	w.settled(t, "calm", "calm-v1")
	time.Sleep(time.Second)
	if got := w.sim.Calls("auth/signin"); got != signIns {
		t.Errorf("spec edits and a restored Secret signed in %d times with the PAT consumers hold", got-signIns)
	}
}

func TestTransientFailureRightBeforePromotionKeepsTheCandidate(t *testing.T) {
	w := newWorld(t)
	w.soloTenant(t, "blip")
	// The check must be made however soon the candidate is let go after its validation.
	c := get(t, w.ns, "blip")
	before := c.DeepCopy()
	c.Spec.Rotation.HealthCheck.RecheckAfter = &metav1.Duration{}
	if err := k8s.Patch(context.Background(), c, client.MergeFrom(before)); err != nil {
		t.Fatal(err)
	}
	// Hold the candidate before promotion (its restart target is missing), then make the
	// next two sign-ins fail with 503 and let it go.
	if err := k8s.Delete(context.Background(), &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "blip-app", Namespace: w.ns}}); err != nil {
		t.Fatal(err)
	}
	w.setSource(t, "blip", "blip-v2", w.pat(t, "blip", "blip-v2", false))
	waitFor(t, w.ns, "blip", "staged", func(c *v1.TableauConnection) bool { return rotationPhase(c) == v1.RotationStaged })
	w.sim.Inject(tableausim.Fault{Kind: tableausim.FaultServerError, Endpoint: "auth/signin", Times: 2})
	w.deployment(t, "blip-app", false)
	c = waitFor(t, w.ns, "blip", "a retried check", func(c *v1.TableauConnection) bool {
		return rotationPhase(c) == v1.RotationPromoting && c.Status.Rotation.Reason == "CandidateCheckRetry" && c.Status.Rotation.CheckFailures > 0
	})
	if c.Status.Rotation.FailedRevision != "" || c.Status.Rotation.CandidateRevision == "" {
		t.Errorf("a 503 rejected the candidate: %s", describe(c))
	}
	w.settled(t, "blip", "blip-v2")
}

func TestConnectionInTwoFleetsRotatesUnderNeither(t *testing.T) {
	w := newWorld(t)
	newFleet(t, w.ns)
	create(t, &v1.TableauFleet{ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: w.ns},
		Spec: v1.TableauFleetSpec{Selector: metav1.LabelSelector{MatchLabels: map[string]string{"fleet": "wave"}}}})
	w.deployment(t, "twice-app", false)
	w.setSource(t, "twice", "twice-v1", w.pat(t, "twice", "twice-v1", false))
	create(t, w.tenantConnection("twice"))
	w.settled(t, "twice", "twice-v1") // a first rollout needs no turn
	w.setSource(t, "twice", "twice-v2", w.pat(t, "twice", "twice-v2", false))
	c := waitFor(t, w.ns, "twice", "the conflict reported", func(c *v1.TableauConnection) bool {
		return rotationPhase(c) == v1.RotationStaged && strings.Contains(c.Status.Rotation.Message, "Selected by 2 TableauFleets")
	})
	eventually(t, 20*time.Second, "the fleet to report the conflict", func() (bool, string) {
		r := meta.FindStatusCondition(getFleet(t, w.ns).Status.Conditions, v1.ConditionReady)
		return r != nil && r.Reason == v1.ReasonFleetConflict && strings.Contains(r.Message, "twice"), fmt.Sprint(r)
	})
	time.Sleep(time.Second)
	if got := string(w.consumer(t, "twice").Data["tokenName"]); got != "twice-v1" {
		t.Errorf("a connection in two fleets rotated: consumer holds %s (%s)", got, describe(c))
	}
}

func TestAKubernetesErrorAfterASignInDoesNotSignInAgain(t *testing.T) {
	w := newWorld(t)
	w.deployment(t, "quota-app", false)
	w.setSource(t, "quota", "quota-v1", w.pat(t, "quota", "quota-v1", false))
	// An admission policy refuses the operator's Secrets in this namespace: the candidate
	// copy cannot be written after the sign-in, and every reconcile fails.
	policy := &admissionv1.ValidatingAdmissionPolicy{ObjectMeta: metav1.ObjectMeta{Name: "refuse-" + w.ns},
		Spec: admissionv1.ValidatingAdmissionPolicySpec{
			MatchConstraints: &admissionv1.MatchResources{ResourceRules: []admissionv1.NamedRuleWithOperations{{RuleWithOperations: admissionv1.RuleWithOperations{
				Operations: []admissionv1.OperationType{admissionv1.Create, admissionv1.Update},
				Rule:       admissionv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"secrets"}}}}}},
			Validations: []admissionv1.Validation{{Expression: "object.metadata.namespace != '" + w.ns + "' || !object.metadata.name.startsWith('quota-tableau')"}}}}
	binding := &admissionv1.ValidatingAdmissionPolicyBinding{ObjectMeta: metav1.ObjectMeta{Name: "refuse-" + w.ns},
		Spec: admissionv1.ValidatingAdmissionPolicyBindingSpec{PolicyName: policy.Name, ValidationActions: []admissionv1.ValidationAction{admissionv1.Deny}}}
	create(t, policy)
	create(t, binding)
	t.Cleanup(func() {
		_ = k8s.Delete(context.Background(), binding)
		_ = k8s.Delete(context.Background(), policy)
	})
	eventually(t, 20*time.Second, "the policy to refuse Secrets", func() (bool, string) {
		probe := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "quota-tableau-probe", Namespace: w.ns}}
		err := k8s.Create(context.Background(), probe)
		if err == nil {
			_ = k8s.Delete(context.Background(), probe)
			return false, "admitted"
		}
		return true, err.Error()
	})
	create(t, w.tenantConnection("quota", func(c *v1.TableauConnection) { c.Labels = nil }))
	c := waitFor(t, w.ns, "quota", "the sign-in recorded although the Secret write fails", func(c *v1.TableauConnection) bool {
		return c.Status.Credentials != nil && c.Status.Credentials.LastSignInTime != nil
	})
	time.Sleep(5 * time.Second)
	if n := w.sim.Calls("auth/signin"); n != 1 {
		t.Errorf("%d sign-ins while a Kubernetes error repeated: retries bypassed the recorded attempt (%s)", n, describe(c))
	}
	if secretExists(t, w.ns, "quota-tableau") {
		t.Fatal("the quota did not stop the Secret write; the test proves nothing")
	}
}

func TestFleetHaltClearsOnceTheFailedMemberIsHealthy(t *testing.T) {
	w := setupFleet(t, "alpha", "bravo")
	w.setSource(t, "alpha", "alpha-v2", w.pat(t, "alpha", "alpha-v2", true)) // revoked
	w.setSource(t, "bravo", "bravo-v2", w.pat(t, "bravo", "bravo-v2", false))
	eventually(t, 20*time.Second, "the fleet to halt at alpha", func() (bool, string) {
		f := getFleet(t, w.ns)
		return f.Status.Halted, fmt.Sprintf("%+v", f.Status)
	})
	// Nobody resumes the wave: alpha gets a working PAT, and the wave goes on by itself.
	w.setSource(t, "alpha", "alpha-v3", w.pat(t, "alpha", "alpha-v3", false))
	w.settled(t, "alpha", "alpha-v3")
	w.settled(t, "bravo", "bravo-v2")
	if f := getFleet(t, w.ns); f.Status.Halted || f.Status.LastHandledResume != "" {
		t.Errorf("fleet = %+v", f.Status)
	}
}
