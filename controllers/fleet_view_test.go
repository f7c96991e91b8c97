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
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/fleet"
)

func memberLabelled(name string, l map[string]string) v1.TableauConnection {
	return v1.TableauConnection{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Labels: l}}
}

func fleetSelecting(name string, sel metav1.LabelSelector) v1.TableauFleet {
	return v1.TableauFleet{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"}, Spec: v1.TableauFleetSpec{Selector: sel}}
}

// A member two fleets select is reported, whichever fleet looks; one selected once is not; a
// fleet whose selector does not parse selects nothing, as for the member's own turn (selects).
func TestConflictedMembersAreThoseTwoFleetsSelect(t *testing.T) {
	members := []v1.TableauConnection{
		memberLabelled("a", map[string]string{"wave": "one"}),
		memberLabelled("b", map[string]string{"wave": "one", "team": "x"}),
		memberLabelled("c", map[string]string{"team": "x"}),
		memberLabelled("d", map[string]string{"wave": "one", "team": "x"}),
	}
	one := fleetSelecting("one", metav1.LabelSelector{MatchLabels: map[string]string{"wave": "one"}})
	x := fleetSelecting("x", metav1.LabelSelector{MatchLabels: map[string]string{"team": "x"}})
	broken := fleetSelecting("broken", metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "wave", Operator: "Bogus"}}})

	if got := conflictedMembers(refs(members...), []v1.TableauFleet{one, x}); !slices.Equal(got, []string{"b", "d"}) {
		t.Errorf("two overlapping fleets: conflicted %v, want [b d]", got)
	}
	if got := conflictedMembers(refs(members...), []v1.TableauFleet{one}); got != nil {
		t.Errorf("one fleet: conflicted %v, want none", got)
	}
	if got := conflictedMembers(refs(members...), []v1.TableauFleet{one, broken}); got != nil {
		t.Errorf("a fleet with an invalid selector made %v conflicted", got)
	}
	// The answer agrees with selects, the rule a member's own turn applies, member by member.
	fleets := []v1.TableauFleet{one, x, broken}
	got := conflictedMembers(refs(members...), fleets)
	for i := range members {
		n := 0
		for j := range fleets {
			if selects(&fleets[j], &members[i]) {
				n++
			}
		}
		if (n > 1) != slices.Contains(got, members[i].Name) {
			t.Errorf("%s: selected by %d fleets, reported conflicted: %v", members[i].Name, n, slices.Contains(got, members[i].Name))
		}
	}
}

// A conflicted member stands apart in the wave: it takes no slot and gets no grant, and the
// members after it are granted in order.
func TestConflictedMemberStandsApartInTheView(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	staged := func(name string) v1.TableauConnection {
		c := memberLabelled(name, nil)
		c.Status.Credentials = &v1.CredentialStatus{Revision: "r2"}
		c.Status.Rotation = &v1.RotationStatus{Phase: v1.RotationStaged, ActiveRevision: "r1"}
		return c
	}
	v := viewOf(refs(staged("b"), staged("a"), staged("c")), []string{"a"}, now)
	var apart []string
	for _, m := range v.admission.Members {
		if m.Standing() == fleet.Apart {
			apart = append(apart, m.Name)
		}
	}
	if !slices.Equal(apart, []string{"a"}) {
		t.Errorf("apart %v, want [a]", apart)
	}
	tf := &v1.TableauFleet{Spec: v1.TableauFleetSpec{Rollout: v1.FleetRollout{MaxConcurrent: 1}}}
	decideFleet(tf, v, now)
	if !slices.Equal(tf.Status.Current, []string{"b"}) {
		t.Errorf("current %v, want [b] (a stands apart)", tf.Status.Current)
	}
}

// refs are the connections as the fleet reads them from the cache: by pointer.
func refs(cs ...v1.TableauConnection) []*v1.TableauConnection {
	out := make([]*v1.TableauConnection, len(cs))
	for i := range cs {
		out[i] = &cs[i]
	}
	return out
}
