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
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/controllers"
	"github.com/tableau-operator/tableau-operator/internal/metrics"
	"github.com/tableau-operator/tableau-operator/internal/tableau"
	"github.com/tableau-operator/tableau-operator/internal/tableausim"
	"github.com/tableau-operator/tableau-operator/internal/testenv"
)

// world is a namespace of tenants on one simulated server, with a stand-in for the
// Deployment controller (envtest runs none): it marks Deployments rolled out a moment after
// their template changes, except those labelled broken.
type world struct {
	sim  *tableausim.Simulator
	srv  *tableausim.Server
	ns   string
	pats map[string]string // token name -> secret
	mu   sync.Mutex
}

func newWorld(t *testing.T) *world {
	t.Helper()
	sim := tableausim.New(tableausim.Config{RESTAPIVersion: "3.24"})
	srv, err := sim.ServeTLS("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	w := &world{sim: sim, srv: srv, ns: newNamespace(t), pats: map[string]string{}}
	create(t, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "tableau-ca", Namespace: w.ns, Labels: consent}, Data: map[string]string{"ca.crt": string(srv.CAPEM)}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		testenv.PlayDeploymentController(ctx, k8s, w.ns, 700*time.Millisecond, func(d *appsv1.Deployment) bool { return d.Labels["test/broken"] == "true" })
	}()
	return w
}

// pat creates a PAT on site and returns its secret; revoked PATs are revoked at once.
func (w *world) pat(t *testing.T, site, name string, revoked bool) string {
	t.Helper()
	w.sim.AddSite(site, site)
	secret := randomSecret()
	secrets.add(secret)
	if err := w.sim.AddPAT(site, tableausim.PAT{Name: name, Secret: secret, Expires: time.Now().Add(90 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if revoked {
		if err := w.sim.RevokePAT(site, name); err != nil {
			t.Fatal(err)
		}
	}
	return secret
}

func (w *world) setSource(t *testing.T, tenant, tokenName, secret string) {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: tenant + "-source", Namespace: w.ns, Labels: consent}}
	err := k8s.Get(context.Background(), client.ObjectKeyFromObject(s), s)
	s.Data = map[string][]byte{"tokenName": []byte(tokenName), "tokenSecret": []byte(secret)}
	if err != nil {
		create(t, s)
		return
	}
	if err := k8s.Update(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

func (w *world) deployment(t *testing.T, name string, broken bool) {
	t.Helper()
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: w.ns}, Spec: appsv1.DeploymentSpec{
		Replicas: ptr.To[int32](1),
		Selector: &metav1.LabelSelector{MatchLabels: labels},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "example.com/app:1"}}}},
	}}
	if broken {
		d.Labels = map[string]string{"test/broken": "true"}
	}
	create(t, d)
}

func (w *world) setBroken(t *testing.T, name string, broken bool) {
	t.Helper()
	d := &appsv1.Deployment{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: w.ns, Name: name}, d); err != nil {
		t.Fatal(err)
	}
	d.Labels = map[string]string{"test/broken": fmt.Sprint(broken)}
	if err := k8s.Update(context.Background(), d); err != nil {
		t.Fatal(err)
	}
}

// tenantConnection is a connection with consumers and one restart target.
func (w *world) tenantConnection(name string, mutate ...func(*v1.TableauConnection)) *v1.TableauConnection {
	c := &v1.TableauConnection{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: w.ns, Labels: map[string]string{"fleet": "wave"}},
		Spec: v1.TableauConnectionSpec{
			Server: w.srv.URL, Site: name, APIVersion: "3.24",
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

func (w *world) consumer(t *testing.T, name string) *corev1.Secret {
	t.Helper()
	s := &corev1.Secret{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: w.ns, Name: name + "-tableau"}, s); err != nil {
		t.Fatalf("consumer Secret of %s: %v", name, err)
	}
	return s
}

// consumerSignsIn asks the simulator whether the consumer Secret's credential works now.
func (w *world) consumerSignsIn(t *testing.T, name string) error {
	t.Helper()
	s := w.consumer(t, name)
	c, err := tableau.New(tableau.Options{Server: string(s.Data["server"]), APIVersion: string(s.Data["apiVersion"]), CACertPEM: w.srv.CAPEM})
	if err != nil {
		return err
	}
	sess, err := c.SignInWithPAT(context.Background(), string(s.Data["site"]), tableau.PersonalAccessToken{Name: string(s.Data["tokenName"]), Secret: tableau.NewSecret(string(s.Data["tokenSecret"]))})
	if err != nil {
		return err
	}
	return c.SignOut(context.Background(), sess)
}

func (w *world) restartedAt(t *testing.T, name string) string {
	t.Helper()
	d := &appsv1.Deployment{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: w.ns, Name: name + "-app"}, d); err != nil {
		t.Fatal(err)
	}
	return d.Spec.Template.Annotations[v1.AnnotationRestartedAt]
}

func secretExists(t *testing.T, ns, name string) bool {
	t.Helper()
	err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &corev1.Secret{})
	return err == nil
}

func rotationPhase(c *v1.TableauConnection) string {
	if c.Status.Rotation == nil {
		return ""
	}
	return c.Status.Rotation.Phase
}

// settled waits until the tenant's rotation is idle with the given token active.
func (w *world) settled(t *testing.T, name, token string) *v1.TableauConnection {
	t.Helper()
	c := waitFor(t, w.ns, name, name+" idle with "+token, func(c *v1.TableauConnection) bool {
		return rotationPhase(c) == v1.RotationIdle && c.Status.Rotation.ActiveRevision != "" && isReady(c) &&
			c.Status.Credentials.TokenName == token && c.Status.Rotation.ActiveRevision == c.Status.Credentials.Revision
	})
	if got := string(w.consumer(t, name).Data["tokenName"]); got != token {
		t.Fatalf("%s consumer holds %s, want %s", name, got, token)
	}
	return c
}

func newFleet(t *testing.T, ns string, mutate ...func(*v1.TableauFleet)) *v1.TableauFleet {
	t.Helper()
	f := &v1.TableauFleet{ObjectMeta: metav1.ObjectMeta{Name: "wave", Namespace: ns},
		Spec: v1.TableauFleetSpec{Selector: metav1.LabelSelector{MatchLabels: map[string]string{"fleet": "wave"}}}}
	for _, m := range mutate {
		m(f)
	}
	create(t, f)
	return f
}

func getFleet(t *testing.T, ns string) *v1.TableauFleet {
	t.Helper()
	f := &v1.TableauFleet{}
	if err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "wave"}, f); err != nil {
		t.Fatal(err)
	}
	return f
}

// setupFleet makes tenants with a first PAT each, published to their consumers.
func setupFleet(t *testing.T, names ...string) *world {
	t.Helper()
	w := newWorld(t)
	newFleet(t, w.ns)
	for _, n := range names {
		w.deployment(t, n+"-app", false)
		w.setSource(t, n, n+"-v1", w.pat(t, n, n+"-v1", false))
		create(t, w.tenantConnection(n))
	}
	for _, n := range names {
		w.settled(t, n, n+"-v1")
	}
	return w
}

func TestFleetRotatesOneTenantAtATime(t *testing.T) {
	names := []string{"alpha", "bravo", "charlie"}
	w := setupFleet(t, names...)
	// A first rollout is no rotation: the fleet says nothing about it.
	for _, r := range eventReasons(t, w.ns, "wave") {
		if r == "Normal/PromotionAllowed" {
			t.Errorf("the fleet emitted PromotionAllowed before any rotation")
		}
	}
	firstRestart := map[string]string{}
	for _, n := range names {
		firstRestart[n] = w.restartedAt(t, n)
	}
	// Watch for two tenants rotating at once while the wave runs.
	ctx, cancel := context.WithCancel(context.Background())
	overlap := make(chan string, 1)
	go func() {
		for ctx.Err() == nil {
			var list v1.TableauConnectionList
			if err := k8s.List(ctx, &list, client.InNamespace(w.ns)); err == nil {
				var active []string
				for _, c := range list.Items {
					if rs := c.Status.Rotation; rs != nil && rs.Phase != v1.RotationIdle && rs.Phase != v1.RotationStaged && rs.Phase != v1.RotationFailed {
						active = append(active, c.Name+":"+rs.Phase)
					}
				}
				if len(active) > 1 {
					select {
					case overlap <- strings.Join(active, ", "):
					default:
					}
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	// First deliveries are not rotations: only the three below count.
	completedBefore := testutil.ToFloat64(metrics.Rotations.WithLabelValues("completed"))
	for _, n := range names {
		w.setSource(t, n, n+"-v2", w.pat(t, n, n+"-v2", false))
	}
	var done []*v1.TableauConnection
	for _, n := range names {
		done = append(done, w.settled(t, n, n+"-v2"))
	}
	cancel()
	select {
	case o := <-overlap:
		t.Errorf("two tenants rotated at once: %s", o)
	default:
	}
	// Promotion order follows the fleet's stable order, each after the previous gate.
	sort.Slice(done, func(i, j int) bool { return done[i].Name < done[j].Name })
	for i := 1; i < len(done); i++ {
		prevDone := done[i-1].Status.Rotation.LastCompletionTime.Time
		restarted, err := time.Parse(time.RFC3339Nano, w.restartedAt(t, done[i].Name))
		if err != nil {
			t.Fatal(err)
		}
		if restarted.Before(prevDone) {
			t.Errorf("%s was promoted at %s, before %s completed at %s", done[i].Name, restarted, done[i-1].Name, prevDone)
		}
	}
	for _, n := range names {
		s := w.consumer(t, n)
		want := map[string]string{"tokenName": n + "-v2", "server": w.srv.URL, "site": n, "apiVersion": "3.24"}
		for k, v := range want {
			if string(s.Data[k]) != v {
				t.Errorf("%s consumer %s = %q, want %q", n, k, s.Data[k], v)
			}
		}
		if err := w.consumerSignsIn(t, n); err != nil {
			t.Errorf("%s consumer credential does not sign in: %v", n, err)
		}
		if w.restartedAt(t, n) == firstRestart[n] {
			t.Errorf("%s was not restarted for the promotion", n)
		}
		if secretExists(t, w.ns, n+"-tableau-previous") || secretExists(t, w.ns, n+"-tableau-candidate") {
			t.Errorf("%s kept its previous or candidate Secret after completing", n)
		}
		waitForEvent(t, w.ns, n, "Normal/RotationCompleted")
	}
	f := getFleet(t, w.ns)
	if f.Status.Members != 3 || f.Status.Halted || len(f.Status.Current) != 0 || !meta.IsStatusConditionTrue(f.Status.Conditions, v1.ConditionReady) {
		t.Errorf("fleet status = %+v", f.Status)
	}
	if v := testutil.ToFloat64(metrics.Rotations.WithLabelValues("completed")) - completedBefore; v < 3 {
		t.Errorf("completed rotations counter grew by %v, want at least 3", v)
	}
}

func TestRejectedCandidateHaltsTheFleet(t *testing.T) {
	names := []string{"alpha", "bravo", "charlie"}
	w := setupFleet(t, names...)
	w.setSource(t, "alpha", "alpha-v2", w.pat(t, "alpha", "alpha-v2", true)) // revoked
	for _, n := range names[1:] {
		w.setSource(t, n, n+"-v2", w.pat(t, n, n+"-v2", false))
	}
	waitFor(t, w.ns, "alpha", "alpha's candidate rejected", func(c *v1.TableauConnection) bool {
		return c.Status.Rotation != nil && c.Status.Rotation.Reason == v1.ReasonCandidateRejected
	})
	eventually(t, 20*time.Second, "the fleet to halt", func() (bool, string) {
		f := getFleet(t, w.ns)
		return f.Status.Halted && meta.IsStatusConditionTrue(f.Status.Conditions, v1.ConditionHalted), fmt.Sprintf("%+v", f.Status)
	})
	f := getFleet(t, w.ns)
	if h := meta.FindStatusCondition(f.Status.Conditions, v1.ConditionHalted); !strings.Contains(h.Message, "alpha (AuthConfigDrift/SignInRejectedAfterSecretChange)") {
		t.Errorf("Halted message = %q", h.Message)
	}
	// bravo and charlie validated their new PATs but wait; every consumer keeps v1.
	for _, n := range names[1:] {
		waitFor(t, w.ns, n, n+" staged", func(c *v1.TableauConnection) bool { return rotationPhase(c) == v1.RotationStaged })
	}
	time.Sleep(time.Second)
	for _, n := range names {
		if got := string(w.consumer(t, n).Data["tokenName"]); got != n+"-v1" {
			t.Errorf("%s consumer holds %s while the fleet is halted", n, got)
		}
		if err := w.consumerSignsIn(t, n); err != nil {
			t.Errorf("%s consumer does not sign in: %v", n, err)
		}
	}
	waitForEvent(t, w.ns, "alpha", "Warning/CandidateRejected")
	waitForEvent(t, w.ns, "wave", "Warning/MemberFailed")
	time.Sleep(time.Second)
	halts := 0
	for _, r := range eventReasons(t, w.ns, "wave") {
		if r == "Warning/MemberFailed" {
			halts++
		}
	}
	if halts != 1 {
		t.Errorf("the fleet told its halt %d times", halts)
	}
	// alpha's consumers still sign in: Ready speaks for them, CandidateValid for the new PAT.
	alpha := get(t, w.ns, "alpha")
	if !isReady(alpha) {
		t.Errorf("alpha is not Ready while its consumers hold a working credential: %s", describe(alpha))
	}
	if cv := condition(alpha, v1.ConditionCandidateValid); cv.Status != metav1.ConditionFalse || !strings.Contains(cv.Message, "AuthConfigDrift") || !strings.Contains(cv.Message, "Next step") {
		t.Errorf("CandidateValid = %+v", cv)
	}
	// Resuming passes alpha; the others roll in order.
	annotate(t, f, v1.AnnotationResume, "1")
	for _, n := range names[1:] {
		w.settled(t, n, n+"-v2")
	}
	waitForEvent(t, w.ns, "wave", "Normal/Resumed")
	f = getFleet(t, w.ns)
	if f.Status.LastHandledResume != "1" || f.Status.Halted || strings.Join(f.Status.Acknowledged, ",") != "alpha" {
		t.Errorf("fleet after resume = %+v", f.Status)
	}
	if got := string(w.consumer(t, "alpha").Data["tokenName"]); got != "alpha-v1" {
		t.Errorf("alpha consumer holds %s, want its working v1", got)
	}
}

func TestGateFailureRollsBack(t *testing.T) {
	w := newWorld(t)
	w.deployment(t, "solo-app", false)
	w.setSource(t, "solo", "solo-v1", w.pat(t, "solo", "solo-v1", false))
	create(t, w.tenantConnection("solo", func(c *v1.TableauConnection) {
		c.Spec.Rotation.HealthCheck.Timeout = &metav1.Duration{Duration: 10 * time.Second}
	}))
	w.settled(t, "solo", "solo-v1")
	firstRestart := w.restartedAt(t, "solo")
	w.setBroken(t, "solo-app", true)
	w.setSource(t, "solo", "solo-v2", w.pat(t, "solo", "solo-v2", false))
	c := waitFor(t, w.ns, "solo", "rolled back", func(c *v1.TableauConnection) bool { return rotationPhase(c) == v1.RotationFailed })
	rs := c.Status.Rotation
	if rs.Reason != v1.ReasonRotationRolledBack || !strings.Contains(rs.Message, "Deployment/solo-app not available") || rs.FailedRevision == "" {
		t.Errorf("rotation = %+v", rs)
	}
	if got := string(w.consumer(t, "solo").Data["tokenName"]); got != "solo-v1" {
		t.Errorf("consumer holds %s after rollback, want solo-v1", got)
	}
	if err := w.consumerSignsIn(t, "solo"); err != nil {
		t.Errorf("restored credential does not sign in: %v", err)
	}
	if w.restartedAt(t, "solo") == firstRestart {
		t.Error("the rollback did not restart the consumers again")
	}
	if secretExists(t, w.ns, "solo-tableau-previous") {
		t.Error("the previous Secret outlived the rollback")
	}
	waitForEvent(t, w.ns, "solo", "Warning/RotationRolledBack")
	if v := testutil.ToFloat64(metrics.Rotations.WithLabelValues("rolled_back")); v < 1 {
		t.Errorf("rolled_back counter = %v", v)
	}
	// Fix the workload and ask for a retry.
	w.setBroken(t, "solo-app", false)
	annotate(t, c, v1.AnnotationRequestedAt, "retry-1")
	c = w.settled(t, "solo", "solo-v2")
	if c.Status.LastHandledRequest != "retry-1" {
		t.Errorf("lastHandledRequest = %q", c.Status.LastHandledRequest)
	}
}

func TestRotationDue(t *testing.T) {
	w := newWorld(t)
	w.deployment(t, "due-app", false)
	w.setSource(t, "due", "due-v1", w.pat(t, "due", "due-v1", false))
	create(t, w.tenantConnection("due", func(c *v1.TableauConnection) {
		c.Spec.Rotation.MaxAge = &metav1.Duration{Duration: 2 * time.Hour}
		c.Spec.Rotation.RenewBefore = &metav1.Duration{Duration: 3 * time.Hour}
	}))
	c := waitFor(t, w.ns, "due", "RotationDue", func(c *v1.TableauConnection) bool {
		return meta.IsStatusConditionTrue(c.Status.Conditions, v1.ConditionRotationDue)
	})
	waitForEvent(t, w.ns, "due", "Warning/RotationDue")
	due := c.Status.Rotation.DueTime
	if v, ok := seriesValue(t, "tableau_operator_rotation_due_timestamp_seconds", w.ns, "due", nil); due == nil || !ok || v != float64(due.Unix()) {
		t.Errorf("due time %v not exported", due)
	}
}

// TestCrashAtEachStep kills the operator right after each rotation phase is persisted and
// before its action, starts a new one, and checks that the consumer Secret signs in at every
// point and that the rotation ends where it should.
func TestCrashAtEachStep(t *testing.T) {
	for _, tc := range []struct {
		phase      string
		broken     bool
		wantPhase  string
		wantActive string
	}{
		{v1.RotationStaged, false, v1.RotationIdle, "v2"},
		{v1.RotationPromoting, false, v1.RotationIdle, "v2"},
		{v1.RotationRestarting, false, v1.RotationIdle, "v2"},
		{v1.RotationGating, false, v1.RotationIdle, "v2"},
		{v1.RotationCompleting, false, v1.RotationIdle, "v2"},
		{v1.RotationRollingBack, true, v1.RotationFailed, "v1"},
	} {
		t.Run(tc.phase, func(t *testing.T) {
			w := newWorld(t)
			name := "crash-" + strings.ToLower(tc.phase)
			w.deployment(t, name+"-app", false)
			w.setSource(t, name, name+"-v1", w.pat(t, name, name+"-v1", false))
			create(t, w.tenantConnection(name, func(c *v1.TableauConnection) {
				c.Labels = nil
				c.Spec.Rotation.HealthCheck.Timeout = &metav1.Duration{Duration: 10 * time.Second}
			}))
			w.settled(t, name, name+"-v1")

			var mu sync.Mutex
			crashed := false
			hook := func(phase string) error {
				mu.Lock()
				defer mu.Unlock()
				if phase == tc.phase || crashed {
					crashed = true // dead: every later reconcile of this operator stops at once
					return controllers.ErrCrash
				}
				return nil
			}
			stopManager()
			if err := startManager(hook); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				// Whatever happened, later tests get a healthy operator.
				stopManager()
				if err := startManager(nil); err != nil {
					t.Fatal(err)
				}
			})
			if tc.broken {
				w.setBroken(t, name+"-app", true)
			}
			w.setSource(t, name, name+"-v2", w.pat(t, name, name+"-v2", false))
			waitFor(t, w.ns, name, "the crash at "+tc.phase, func(c *v1.TableauConnection) bool { return rotationPhase(c) == tc.phase })
			if err := w.consumerSignsIn(t, name); err != nil {
				t.Errorf("after the crash at %s the consumer credential does not sign in: %v", tc.phase, err)
			}
			stopManager()
			if err := startManager(nil); err != nil {
				t.Fatal(err)
			}
			c := waitFor(t, w.ns, name, "the new operator to finish", func(c *v1.TableauConnection) bool {
				rs := c.Status.Rotation
				if rotationPhase(c) != tc.wantPhase || rs.CandidateRevision != "" {
					return false
				}
				if tc.wantActive == "v2" {
					return rs.ActiveRevision == c.Status.Credentials.Revision
				}
				return rs.FailedRevision == c.Status.Credentials.Revision
			})
			if got := string(w.consumer(t, name).Data["tokenName"]); got != name+"-"+tc.wantActive {
				t.Errorf("consumer holds %s, want %s-%s", got, name, tc.wantActive)
			}
			if err := w.consumerSignsIn(t, name); err != nil {
				t.Errorf("the consumer credential does not sign in at the end: %v", err)
			}
			if c.Status.Rotation.ActiveRevision == "" {
				t.Errorf("no active revision: %+v", c.Status.Rotation)
			}
		})
	}
}

func TestCorrelatedFailuresSuggestAVendorIncident(t *testing.T) {
	names := []string{"alpha", "bravo", "charlie"}
	w := setupFleet(t, names...)
	w.setSource(t, "alpha", "alpha-v2", w.pat(t, "alpha", "alpha-v2", true))
	waitFor(t, w.ns, "alpha", "alpha rejected", func(c *v1.TableauConnection) bool { return c.Status.LastFailure != nil })
	time.Sleep(time.Second)
	if f := getFleet(t, w.ns); meta.IsStatusConditionTrue(f.Status.Conditions, v1.ConditionSuspectedVendorIncident) {
		t.Error("one failing member raised SuspectedVendorIncident")
	}
	w.setSource(t, "bravo", "bravo-v2", w.pat(t, "bravo", "bravo-v2", true))
	eventually(t, 20*time.Second, "SuspectedVendorIncident", func() (bool, string) {
		f := getFleet(t, w.ns)
		c := meta.FindStatusCondition(f.Status.Conditions, v1.ConditionSuspectedVendorIncident)
		return c != nil && c.Status == metav1.ConditionTrue, fmt.Sprintf("%+v", c)
	})
	c := meta.FindStatusCondition(getFleet(t, w.ns).Status.Conditions, v1.ConditionSuspectedVendorIncident)
	if !strings.Contains(c.Message, "alpha, bravo") || !strings.Contains(c.Message, "SignInRejected") || !strings.Contains(c.Message, w.srv.URL) {
		t.Errorf("message = %q", c.Message)
	}
}

func TestCandidateRevokedWhileWaitingNeverReachesConsumers(t *testing.T) {
	w := newWorld(t)
	newFleet(t, w.ns, func(f *v1.TableauFleet) { f.Spec.Rollout.HaltOnFailure = ptr.To(false) })
	for _, n := range []string{"alpha", "bravo"} {
		w.deployment(t, n+"-app", false)
		w.setSource(t, n, n+"-v1", w.pat(t, n, n+"-v1", false))
		create(t, w.tenantConnection(n, func(c *v1.TableauConnection) {
			c.Spec.Rotation.HealthCheck.Timeout = &metav1.Duration{Duration: 10 * time.Second}
			// However briefly bravo waits on a loaded machine, its candidate signs in again.
			c.Spec.Rotation.HealthCheck.RecheckAfter = &metav1.Duration{}
		}))
	}
	w.settled(t, "alpha", "alpha-v1")
	w.settled(t, "bravo", "bravo-v1")
	// alpha's workload will not come up, so its gate holds the wave for 10 seconds.
	w.setBroken(t, "alpha-app", true)
	w.setSource(t, "alpha", "alpha-v2", w.pat(t, "alpha", "alpha-v2", false))
	waitFor(t, w.ns, "alpha", "alpha gating", func(c *v1.TableauConnection) bool { return rotationPhase(c) == v1.RotationGating })
	w.setSource(t, "bravo", "bravo-v2", w.pat(t, "bravo", "bravo-v2", false))
	waitFor(t, w.ns, "bravo", "bravo staged behind alpha", func(c *v1.TableauConnection) bool { return rotationPhase(c) == v1.RotationStaged })
	// Someone revokes bravo's new PAT while it waits.
	if err := w.sim.RevokePAT("bravo", "bravo-v2"); err != nil {
		t.Fatal(err)
	}
	c := waitFor(t, w.ns, "bravo", "bravo's candidate rejected at promotion", func(c *v1.TableauConnection) bool {
		return rotationPhase(c) == v1.RotationFailed
	})
	if rs := c.Status.Rotation; rs.Reason != v1.ReasonCandidateRejected || !strings.Contains(rs.Message, "right before promotion") {
		t.Errorf("rotation = %+v", rs)
	}
	if got := string(w.consumer(t, "bravo").Data["tokenName"]); got != "bravo-v1" {
		t.Errorf("bravo consumer holds %s, want bravo-v1", got)
	}
	if err := w.consumerSignsIn(t, "bravo"); err != nil {
		t.Errorf("bravo consumer does not sign in: %v", err)
	}
	// Failed is persisted before its clean-up, which follows at once.
	eventually(t, 10*time.Second, "the rejected candidate Secret to be deleted", func() (bool, string) {
		return !secretExists(t, w.ns, "bravo-tableau-candidate"), "bravo-tableau-candidate exists"
	})
}
