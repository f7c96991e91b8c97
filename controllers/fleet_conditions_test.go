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

package controllers

import (
	"context"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/fleet"
)

func TestFleetConditionSetters(t *testing.T) {
	halted := func(tf *v1.TableauFleet) { tf.Status.Halted = true }
	rolling := fleet.Decision{Rotating: []string{"a"}, Queued: []string{"b"}}
	cases := map[string]struct {
		fleet func(*v1.TableauFleet)
		facts fleetFacts
		want  map[string]string // condition type -> status/reason
	}{
		"settled": {facts: fleetFacts{}, want: map[string]string{
			v1.ConditionHalted: "False/" + v1.ReasonFleetNotHalted, v1.ConditionSuspectedVendorIncident: "False/" + v1.ReasonNoVendorIncident,
			v1.ConditionReady: "True/" + v1.ReasonFleetSettled, v1.ConditionStalled: "False/" + v1.ReasonNotStalled,
			v1.ConditionReconciling: "False/" + v1.ReasonFleetSettled}},
		"rolling": {facts: fleetFacts{decision: rolling}, want: map[string]string{
			v1.ConditionHalted: "False/" + v1.ReasonFleetNotHalted,
			v1.ConditionReady:  "False/" + v1.ReasonFleetRolling, v1.ConditionStalled: "False/" + v1.ReasonNotStalled,
			v1.ConditionReconciling: "True/" + v1.ReasonFleetRolling}},
		"halted wins over rolling": {fleet: halted, facts: fleetFacts{decision: fleet.Decision{Halted: true, Blocking: []string{"a"}, Queued: []string{"b"}},
			view: fleetView{failedDetail: map[string]string{"a": "AuthConfigDrift/SignInRejected"}}}, want: map[string]string{
			v1.ConditionHalted: "True/" + v1.ReasonFleetHalted,
			v1.ConditionReady:  "False/" + v1.ReasonFleetHalted, v1.ConditionStalled: "True/" + v1.ReasonFleetHalted,
			v1.ConditionReconciling: "False/" + v1.ReasonFleetHalted}},
		"resumed past a failed member": {facts: fleetFacts{acknowledged: []string{"a"}}, want: map[string]string{
			v1.ConditionHalted: "False/" + v1.ReasonFleetResumed}},
		"a member in two fleets": {facts: fleetFacts{decision: rolling, view: fleetView{conflicted: []string{"b"}}}, want: map[string]string{
			v1.ConditionReady: "False/" + v1.ReasonFleetConflict, v1.ConditionStalled: "True/" + v1.ReasonFleetConflict,
			v1.ConditionReconciling: "False/" + v1.ReasonFleetConflict}},
		"a vendor incident": {facts: fleetFacts{view: fleetView{incidentMembers: []string{"a", "b"}, incidentReason: "ServerError", incidentServer: "https://x"}}, want: map[string]string{
			v1.ConditionSuspectedVendorIncident: "True/" + v1.ReasonVendorIncident, v1.ConditionReady: "True/" + v1.ReasonFleetSettled}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tf := &v1.TableauFleet{ObjectMeta: metav1.ObjectMeta{Generation: 4}}
			if tc.fleet != nil {
				tc.fleet(tf)
			}
			setFleetConditions(tf, tc.facts)
			for typ, want := range tc.want {
				c := meta.FindStatusCondition(tf.Status.Conditions, typ)
				if c == nil {
					t.Fatalf("%s absent, want %s", typ, want)
				}
				if got := string(c.Status) + "/" + c.Reason; got != want || c.ObservedGeneration != 4 {
					t.Errorf("%s = %s at generation %d (%s), want %s at 4", typ, got, c.ObservedGeneration, c.Message, want)
				}
			}
		})
	}
}

func fakeScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := v1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestFleetReconcileOnAFakeClient runs the fleet's whole reconcile (observe, decide, finish)
// against controller-runtime's fake client: the first staged member in name order may
// promote, and a second reconcile of an unchanged fleet writes nothing.
func TestFleetReconcileOnAFakeClient(t *testing.T) {
	labels := map[string]string{"wave": "1"}
	conn := func(name, phase string) *v1.TableauConnection {
		c := &v1.TableauConnection{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, Labels: labels}}
		c.Status.Rotation = &v1.RotationStatus{Phase: phase, ActiveRevision: "r1"}
		return c
	}
	tf := &v1.TableauFleet{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "wave", Generation: 1},
		Spec: v1.TableauFleetSpec{Selector: metav1.LabelSelector{MatchLabels: labels}}}
	c := fake.NewClientBuilder().WithScheme(fakeScheme(t)).
		WithObjects(tf, conn("b", v1.RotationStaged), conn("a", v1.RotationStaged), conn("c", v1.RotationIdle)).
		WithStatusSubresource(&v1.TableauFleet{}, &v1.TableauConnection{}).Build()
	r := &TableauFleetReconciler{Client: c, Now: func() time.Time { return now }}
	req := ctrl.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: "wave"}}
	res, err := r.Reconcile(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if res.RequeueAfter <= 0 {
		t.Errorf("a rolling wave must come back; result %+v", res)
	}
	var got v1.TableauFleet
	if err := c.Get(context.Background(), req.NamespacedName, &got); err != nil {
		t.Fatal(err)
	}
	if cur := strings.Join(got.Status.Current, ","); cur != "a" || got.Status.Members != 3 || got.Status.ObservedGeneration != 1 {
		t.Errorf("status = current %q, members %d, observedGeneration %d; want a, 3, 1", cur, got.Status.Members, got.Status.ObservedGeneration)
	}
	if !meta.IsStatusConditionFalse(got.Status.Conditions, v1.ConditionReady) {
		t.Errorf("Ready = %+v, want False while rolling", meta.FindStatusCondition(got.Status.Conditions, v1.ConditionReady))
	}
	rv := got.ResourceVersion
	if _, err := r.Reconcile(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(context.Background(), req.NamespacedName, &got); err != nil {
		t.Fatal(err)
	}
	if got.ResourceVersion != rv {
		t.Errorf("an unchanged fleet was written again (resourceVersion %s -> %s)", rv, got.ResourceVersion)
	}
	// A fleet that is gone is no error.
	if _, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: "gone"}}); err != nil {
		t.Errorf("reconciling a deleted fleet: %v", err)
	}
}
