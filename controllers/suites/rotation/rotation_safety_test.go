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
	. "github.com/tableau-operator/tableau-operator/internal/testenv/optest"
)

func TestForeignConsumerSecretIsNeitherOverwrittenNorAdopted(t *testing.T) {
	t.Parallel()
	w := NewWorld(t)
	w.Deployment(t, "taken-app", false)
	w.SetSource(t, "taken", "taken-v1", w.Pat(t, "taken", "taken-v1", false))
	ForeignSecret(t, w.NS, "taken-tableau")
	Create(t, w.TenantConnection("taken", func(c *v1.TableauConnection) { c.Labels = nil }))
	c := WaitFor(t, w.NS, "taken", "ConsumersReady=False/SecretNameTaken", NameTaken)
	if msg := Condition(c, v1.ConditionConsumersReady).Message; !strings.Contains(msg, `"taken-tableau"`) || !strings.Contains(msg, "spec.consumers.secretName") {
		t.Errorf("ConsumersReady message = %q", msg)
	}
	if r := Condition(c, v1.ConditionReady); r.Status != metav1.ConditionFalse || Condition(c, v1.ConditionStalled).Status != metav1.ConditionTrue {
		t.Errorf("Ready = %+v, Stalled = %+v", r, Condition(c, v1.ConditionStalled))
	}
	rv := c.ResourceVersion
	time.Sleep(2 * time.Second)
	if calls := w.Sim.AllCalls(); calls["auth/signin"] != 0 || calls["serverinfo"] != 0 {
		t.Errorf("the operator called Tableau while the consumer name was taken: %v", calls)
	}
	if now := Get(t, w.NS, "taken"); now.ResourceVersion != rv {
		t.Errorf("status kept changing while nothing changed: %s", Describe(now))
	}
	AssertUntouched(t, w.NS, "taken-tableau")
	// Once the person removes their Secret, the operator publishes its own.
	if err := K8s().Delete(context.Background(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "taken-tableau", Namespace: w.NS}}); err != nil {
		t.Fatal(err)
	}
	w.Settled(t, "taken", "taken-v1")
}

func TestForeignSiblingStopsARotationBeforeAnyWrite(t *testing.T) {
	t.Parallel()
	w := NewWorld(t)
	w.SoloTenant(t, "sib")
	ForeignSecret(t, w.NS, "sib-tableau-previous")
	ForeignSecret(t, w.NS, "sib-tableau-candidate")
	w.SetSource(t, "sib", "sib-v2", w.Pat(t, "sib", "sib-v2", false))
	WaitFor(t, w.NS, "sib", "ConsumersReady=False/SecretNameTaken", NameTaken)
	time.Sleep(time.Second)
	AssertUntouched(t, w.NS, "sib-tableau-previous")
	AssertUntouched(t, w.NS, "sib-tableau-candidate")
	if got := string(w.Consumer(t, "sib").Data["tokenName"]); got != "sib-v1" {
		t.Errorf("consumer holds %s while a sibling name is taken", got)
	}
}

func TestDeletionPolicyAndMissingRestartTarget(t *testing.T) {
	t.Parallel()
	w := NewWorld(t)
	keep := w.SoloTenant(t, "keep")
	drop := w.SoloTenant(t, "drop", func(c *v1.TableauConnection) { c.Spec.Consumers.DeletionPolicy = v1.DeletionDelete })
	// envtest runs no garbage collector: the owner references are what it would act on.
	ks := w.Consumer(t, "keep")
	if len(ks.OwnerReferences) != 0 {
		t.Errorf("deletionPolicy Retain: consumer Secret has owner references %v", ks.OwnerReferences)
	}
	if ks.Labels[v1.LabelCredential] != v1.CredentialManaged || ks.Labels[v1.LabelManagedBy] != v1.ManagedByValue ||
		ks.Annotations[v1.AnnotationConnection] != "keep" || ks.Annotations[v1.AnnotationConnectionUID] != string(keep.UID) {
		t.Errorf("consumer Secret lacks the operator's mark: labels %v annotations %v", ks.Labels, ks.Annotations)
	}
	if refs := w.Consumer(t, "drop").OwnerReferences; len(refs) != 1 || refs[0].UID != drop.UID || refs[0].Controller == nil || !*refs[0].Controller {
		t.Errorf("deletionPolicy Delete: consumer Secret owner references %v", refs)
	}
	// A restart target that does not exist stops the rotation before promotion, with the
	// reason, instead of a health gate that times out.
	if err := K8s().Delete(context.Background(), &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "keep-app", Namespace: w.NS}}); err != nil {
		t.Fatal(err)
	}
	w.SetSource(t, "keep", "keep-v2", w.Pat(t, "keep", "keep-v2", false))
	c := WaitFor(t, w.NS, "keep", "a missing restart target reported", func(c *v1.TableauConnection) bool {
		return RotationPhase(c) == v1.RotationStaged && c.Status.Rotation.Reason == "RestartTargetMissing"
	})
	if !strings.Contains(c.Status.Rotation.Message, "Deployment/keep-app") {
		t.Errorf("rotation message = %q", c.Status.Rotation.Message)
	}
	cand := GetSecret(t, w.NS, "keep-tableau-candidate")
	if len(cand.OwnerReferences) != 1 || cand.OwnerReferences[0].UID != keep.UID {
		t.Errorf("the staged copy is not owned by its connection: %v", cand.OwnerReferences)
	}
	time.Sleep(time.Second)
	if got := string(w.Consumer(t, "keep").Data["tokenName"]); got != "keep-v1" || RotationPhase(Get(t, w.NS, "keep")) != v1.RotationStaged {
		t.Errorf("with a missing target the consumer holds %s, phase %s", got, RotationPhase(Get(t, w.NS, "keep")))
	}
	// Deleting the connection leaves the live credential in place.
	if err := K8s().Delete(context.Background(), Get(t, w.NS, "keep")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if !SecretExists(t, w.NS, "keep-tableau") {
		t.Error("deleting the connection deleted its consumer Secret under deletionPolicy Retain")
	}
}

func TestConsumerSecretConvergesWithoutSigningInWithTheLivePAT(t *testing.T) {
	t.Parallel()
	w := NewWorld(t)
	w.SoloTenant(t, "conv")
	signIns := w.Sim.Calls("auth/signin")
	// A person deletes the consumer Secret: it comes back with the active credential.
	if err := K8s().Delete(context.Background(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "conv-tableau", Namespace: w.NS}}); err != nil {
		t.Fatal(err)
	}
	Eventually(t, 30*time.Second, "the consumer Secret to be recreated", func() (bool, string) {
		return SecretExists(t, w.NS, "conv-tableau"), "missing"
	})
	w.Settled(t, "conv", "conv-v1")
	if err := w.ConsumerSignsIn(t, "conv"); err != nil {
		t.Errorf("the recreated consumer credential does not sign in: %v", err)
	}
	// A new pinned API version reaches the bundle, rolled out with a restart, validated by
	// serverinfo only.
	restarted := w.RestartedAt(t, "conv")
	c := Get(t, w.NS, "conv")
	before := c.DeepCopy()
	c.Spec.APIVersion = "3.23"
	if err := K8s().Patch(context.Background(), c, client.MergeFrom(before)); err != nil {
		t.Fatal(err)
	}
	Eventually(t, 30*time.Second, "apiVersion 3.23 in the consumer Secret", func() (bool, string) {
		got := string(w.Consumer(t, "conv").Data["apiVersion"])
		return got == "3.23" && RotationPhase(Get(t, w.NS, "conv")) == v1.RotationIdle, got
	})
	if w.RestartedAt(t, "conv") == restarted {
		t.Error("the bundle changed without restarting its consumers")
	}
	// The consumer's own sign-ins (consumerSignsIn) count too: one above.
	if got := w.Sim.Calls("auth/signin"); got != signIns+1 {
		t.Errorf("the operator signed in %d times with the PAT consumers hold", got-signIns-1)
	}
}

func TestSpecEditsAndARestoredSecretDoNotSignIn(t *testing.T) {
	t.Parallel()
	w := NewWorld(t)
	w.Deployment(t, "calm-app", false)
	secret := w.Pat(t, "calm", "calm-v1", false)
	w.SetSource(t, "calm", "calm-v1", secret)
	Create(t, w.TenantConnection("calm", func(c *v1.TableauConnection) { c.Labels = nil }))
	w.Settled(t, "calm", "calm-v1")
	signIns := w.Sim.Calls("auth/signin")
	edit := func(f func(c *v1.TableauConnection)) {
		t.Helper()
		c := Get(t, w.NS, "calm")
		before := c.DeepCopy()
		f(c)
		if err := K8s().Patch(context.Background(), c, client.MergeFrom(before)); err != nil {
			t.Fatal(err)
		}
		WaitFor(t, w.NS, "calm", "the edit observed", func(*v1.TableauConnection) bool { return true })
	}
	edit(func(c *v1.TableauConnection) { c.Spec.Suspend = true })
	edit(func(c *v1.TableauConnection) { c.Spec.Suspend = false })
	edit(func(c *v1.TableauConnection) { c.Spec.Rotation.MaxAge = &metav1.Duration{Duration: 48 * time.Hour} })
	edit(func(c *v1.TableauConnection) {
		c.Spec.Rotation.HealthCheck.Timeout = &metav1.Duration{Duration: time.Minute}
	})
	// The source Secret disappears and comes back with the same PAT.
	if err := K8s().Delete(context.Background(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "calm-source", Namespace: w.NS}}); err != nil {
		t.Fatal(err)
	}
	c := WaitFor(t, w.NS, "calm", "the missing source reported", ReadyReason("SecretNotFound"))
	if cv := Condition(c, v1.ConditionCandidateValid); cv.Status == metav1.ConditionFalse || RotationPhase(c) == v1.RotationFailed {
		t.Errorf("a missing source Secret was taken for a rejected candidate: %s", Describe(c))
	}
	w.SetSource(t, "calm", "calm-v1", secret)
	w.Settled(t, "calm", "calm-v1")
	time.Sleep(time.Second)
	if got := w.Sim.Calls("auth/signin"); got != signIns {
		t.Errorf("spec edits and a restored Secret signed in %d times with the PAT consumers hold", got-signIns)
	}
}

func TestTransientFailureRightBeforePromotionKeepsTheCandidate(t *testing.T) {
	t.Parallel()
	w := NewWorld(t)
	w.SoloTenant(t, "blip")
	// The check must be made however soon the candidate is let go after its validation.
	c := Get(t, w.NS, "blip")
	before := c.DeepCopy()
	c.Spec.Rotation.HealthCheck.RecheckAfter = &metav1.Duration{}
	if err := K8s().Patch(context.Background(), c, client.MergeFrom(before)); err != nil {
		t.Fatal(err)
	}
	// Hold the candidate before promotion (its restart target is missing), then make the
	// next two sign-ins fail with 503 and let it go.
	if err := K8s().Delete(context.Background(), &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "blip-app", Namespace: w.NS}}); err != nil {
		t.Fatal(err)
	}
	w.SetSource(t, "blip", "blip-v2", w.Pat(t, "blip", "blip-v2", false))
	WaitFor(t, w.NS, "blip", "staged", func(c *v1.TableauConnection) bool { return RotationPhase(c) == v1.RotationStaged })
	w.Sim.Inject(tableausim.Fault{Kind: tableausim.FaultServerError, Endpoint: "auth/signin", Times: 2})
	w.Deployment(t, "blip-app", false)
	c = WaitFor(t, w.NS, "blip", "a retried check", func(c *v1.TableauConnection) bool {
		return RotationPhase(c) == v1.RotationPromoting && c.Status.Rotation.Reason == "CandidateCheckRetry" && c.Status.Rotation.CheckFailures > 0
	})
	if c.Status.Rotation.FailedRevision != "" || c.Status.Rotation.CandidateRevision == "" {
		t.Errorf("a 503 rejected the candidate: %s", Describe(c))
	}
	w.Settled(t, "blip", "blip-v2")
}

func TestConnectionInTwoFleetsRotatesUnderNeither(t *testing.T) {
	t.Parallel()
	w := NewWorld(t)
	NewFleet(t, w.NS)
	Create(t, &v1.TableauFleet{ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: w.NS},
		Spec: v1.TableauFleetSpec{Selector: metav1.LabelSelector{MatchLabels: map[string]string{"fleet": "wave"}}}})
	w.Deployment(t, "twice-app", false)
	w.SetSource(t, "twice", "twice-v1", w.Pat(t, "twice", "twice-v1", false))
	Create(t, w.TenantConnection("twice"))
	w.Settled(t, "twice", "twice-v1") // a first rollout needs no turn
	w.SetSource(t, "twice", "twice-v2", w.Pat(t, "twice", "twice-v2", false))
	c := WaitFor(t, w.NS, "twice", "the conflict reported", func(c *v1.TableauConnection) bool {
		return RotationPhase(c) == v1.RotationStaged && strings.Contains(c.Status.Rotation.Message, "Selected by 2 TableauFleets")
	})
	Eventually(t, 20*time.Second, "the fleet to report the conflict", func() (bool, string) {
		r := meta.FindStatusCondition(GetFleet(t, w.NS).Status.Conditions, v1.ConditionReady)
		return r != nil && r.Reason == v1.ReasonFleetConflict && strings.Contains(r.Message, "twice"), fmt.Sprint(r)
	})
	time.Sleep(time.Second)
	if got := string(w.Consumer(t, "twice").Data["tokenName"]); got != "twice-v1" {
		t.Errorf("a connection in two fleets rotated: consumer holds %s (%s)", got, Describe(c))
	}
}

func TestAKubernetesErrorAfterASignInDoesNotSignInAgain(t *testing.T) {
	t.Parallel()
	w := NewWorld(t)
	w.Deployment(t, "quota-app", false)
	w.SetSource(t, "quota", "quota-v1", w.Pat(t, "quota", "quota-v1", false))
	// An admission policy refuses the operator's Secrets in this namespace: the candidate
	// copy cannot be written after the sign-in, and every reconcile fails.
	policy := &admissionv1.ValidatingAdmissionPolicy{ObjectMeta: metav1.ObjectMeta{Name: "refuse-" + w.NS},
		Spec: admissionv1.ValidatingAdmissionPolicySpec{
			MatchConstraints: &admissionv1.MatchResources{ResourceRules: []admissionv1.NamedRuleWithOperations{{RuleWithOperations: admissionv1.RuleWithOperations{
				Operations: []admissionv1.OperationType{admissionv1.Create, admissionv1.Update},
				Rule:       admissionv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"secrets"}}}}}},
			Validations: []admissionv1.Validation{{Expression: "object.metadata.namespace != '" + w.NS + "' || !object.metadata.name.startsWith('quota-tableau')"}}}}
	binding := &admissionv1.ValidatingAdmissionPolicyBinding{ObjectMeta: metav1.ObjectMeta{Name: "refuse-" + w.NS},
		Spec: admissionv1.ValidatingAdmissionPolicyBindingSpec{PolicyName: policy.Name, ValidationActions: []admissionv1.ValidationAction{admissionv1.Deny}}}
	Create(t, policy)
	Create(t, binding)
	t.Cleanup(func() {
		_ = K8s().Delete(context.Background(), binding)
		_ = K8s().Delete(context.Background(), policy)
	})
	Eventually(t, 20*time.Second, "the policy to refuse Secrets", func() (bool, string) {
		probe := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "quota-tableau-probe", Namespace: w.NS}}
		err := K8s().Create(context.Background(), probe)
		if err == nil {
			_ = K8s().Delete(context.Background(), probe)
			return false, "admitted"
		}
		return true, err.Error()
	})
	Create(t, w.TenantConnection("quota", func(c *v1.TableauConnection) { c.Labels = nil }))
	c := WaitFor(t, w.NS, "quota", "the sign-in recorded although the Secret write fails", func(c *v1.TableauConnection) bool {
		return c.Status.Credentials != nil && c.Status.Credentials.LastSignInTime != nil
	})
	time.Sleep(5 * time.Second)
	if n := w.Sim.Calls("auth/signin"); n != 1 {
		t.Errorf("%d sign-ins while a Kubernetes error repeated: retries bypassed the recorded attempt (%s)", n, Describe(c))
	}
	if SecretExists(t, w.NS, "quota-tableau") {
		t.Fatal("the quota did not stop the Secret write; the test proves nothing")
	}
}

func TestFleetHaltClearsOnceTheFailedMemberIsHealthy(t *testing.T) {
	t.Parallel()
	w := SetupFleet(t, "alpha", "bravo")
	w.SetSource(t, "alpha", "alpha-v2", w.Pat(t, "alpha", "alpha-v2", true)) // revoked
	w.SetSource(t, "bravo", "bravo-v2", w.Pat(t, "bravo", "bravo-v2", false))
	Eventually(t, 20*time.Second, "the fleet to halt at alpha", func() (bool, string) {
		f := GetFleet(t, w.NS)
		return f.Status.Halted, fmt.Sprintf("%+v", f.Status)
	})
	// Nobody resumes the wave: alpha gets a working PAT, and the wave goes on by itself.
	w.SetSource(t, "alpha", "alpha-v3", w.Pat(t, "alpha", "alpha-v3", false))
	w.Settled(t, "alpha", "alpha-v3")
	w.Settled(t, "bravo", "bravo-v2")
	if f := GetFleet(t, w.NS); f.Status.Halted || f.Status.LastHandledResume != "" {
		t.Errorf("fleet = %+v", f.Status)
	}
}
