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
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
	crevent "sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

// What a wave costs is measured by `make bench` (BENCH_ROTATE=1); these tests pin the rules
// that keep it low without hiding anything a member or a person acts on.

func TestFleetStatusMovedOnlyWithWhatIsActedOn(t *testing.T) {
	base := v1.TableauFleetStatus{Members: 3, Ready: 1, Rotating: 1, Pending: 1, Current: []string{"a"},
		Conditions: []metav1.Condition{{Type: v1.ConditionReady, Status: metav1.ConditionFalse, Reason: "Rolling", Message: "1 of 3 rotating"}}}
	cases := []struct {
		name   string
		change func(*v1.TableauFleetStatus)
		moved  bool
	}{
		{"nothing", func(*v1.TableauFleetStatus) {}, false},
		{"counts", func(s *v1.TableauFleetStatus) { s.Ready, s.Rotating, s.Pending = 2, 0, 1 }, false},
		{"a condition's message", func(s *v1.TableauFleetStatus) { s.Conditions[0].Message = "2 of 3 ready" }, false},
		{"a grant", func(s *v1.TableauFleetStatus) { s.Current = []string{"a", "b"} }, true},
		{"a grant ends", func(s *v1.TableauFleetStatus) { s.Current = nil }, true},
		{"halt", func(s *v1.TableauFleetStatus) { s.Halted = true }, true},
		{"members", func(s *v1.TableauFleetStatus) { s.Members = 4 }, true},
		{"a condition's status", func(s *v1.TableauFleetStatus) {
			s.Conditions[0].Status, s.Conditions[0].Reason = metav1.ConditionTrue, "Settled"
		}, true},
		{"the wave settles", func(s *v1.TableauFleetStatus) { s.Ready, s.Rotating, s.Pending = 3, 0, 0 }, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			after := base.DeepCopy()
			tc.change(after)
			if got := fleetStatusMoved(&base, after); got != tc.moved {
				t.Errorf("fleetStatusMoved = %v, want %v", got, tc.moved)
			}
		})
	}
}

func TestFleetGrantsWakeOnlyMembersWhoseGrantChanged(t *testing.T) {
	q := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
	defer q.ShutDown()
	fleet := func(current ...string) *v1.TableauFleet {
		return &v1.TableauFleet{ObjectMeta: metav1.ObjectMeta{Name: "wave", Namespace: "ns"},
			Spec:   v1.TableauFleetSpec{Selector: metav1.LabelSelector{MatchLabels: map[string]string{"fleet": "wave"}}},
			Status: v1.TableauFleetStatus{Current: current, Members: 5, Ready: 2}}
	}
	was, is := fleet("a", "b"), fleet("b", "c")
	is.Status.Ready = 3 // a count moved too: no member's business
	fleetGrants{}.Update(context.Background(), crevent.UpdateEvent{ObjectOld: was, ObjectNew: is}, q)
	var woken []string
	for q.Len() > 0 {
		req, _ := q.Get()
		woken = append(woken, req.Name)
		q.Done(req)
	}
	slices.Sort(woken)
	if !slices.Equal(woken, []string{"a", "c"}) {
		t.Errorf("woken %v, want [a c] (a's grant ended, c's began, b's stays)", woken)
	}
}

func TestStrippedWorkloadStillTellsTheGate(t *testing.T) {
	at := "2026-01-01T00:00:00Z"
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "ns", Generation: 2, Annotations: map[string]string{"big": "x"}},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](2), Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{v1.AnnotationRestartedAt: at, "other": "y"}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "example.com/app:1"}}}}},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 2, UpdatedReplicas: 2, AvailableReplicas: 2},
	}
	obj, err := stripWorkload(d)
	if err != nil {
		t.Fatal(err)
	}
	s := obj.(*appsv1.Deployment)
	if len(s.Spec.Template.Spec.Containers) != 0 || len(s.Spec.Template.Annotations) != 1 || s.Annotations != nil {
		t.Errorf("kept more than the gate reads: %+v", s)
	}
	if !rolledOut(s, at) || templateAnnotation(s) != at {
		t.Errorf("the stripped copy no longer says it rolled out with %s", at)
	}
	s.Status.AvailableReplicas = 1
	if rolledOut(s, at) {
		t.Errorf("a stripped copy with one replica unavailable says it rolled out")
	}
}
