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
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/fleet"
)

// fleetFacts are what the fleet's conditions are computed from: what it observed of its
// members, the wave's decision and the failed members a person resumed past.
type fleetFacts struct {
	view         fleetView
	decision     fleet.Decision
	acknowledged []string
}

// fleetState is the one summary Ready, Stalled and Reconciling tell, first match wins.
type fleetState int

const (
	fleetHalted fleetState = iota
	fleetConflict
	fleetRolling
	fleetSettled
)

func stateOf(tf *v1.TableauFleet, f fleetFacts) fleetState {
	switch {
	case tf.Status.Halted:
		return fleetHalted
	case len(f.view.conflicted) > 0:
		return fleetConflict
	case len(f.decision.Rotating) > 0 || len(f.decision.Queued) > 0:
		return fleetRolling
	}
	return fleetSettled
}

// setFleetConditions sets every condition of a fleet: one setter each, Ready, Stalled and
// Reconciling from the one summary (stateOf).
func setFleetConditions(tf *v1.TableauFleet, f fleetFacts) {
	set := conditionSetter(&tf.Status.Conditions, tf.Generation)
	setFleetHalted(tf, f, set)
	setFleetVendorIncident(f, set)
	setFleetReady(tf, f, set)
	setFleetStalled(tf, f, set)
	setFleetReconciling(tf, f, set)
}

// haltedMessage names the members the wave halted at, with why each failed.
func haltedMessage(f fleetFacts) string {
	var parts []string
	for _, name := range f.decision.Blocking {
		parts = append(parts, name+" ("+f.view.failedDetail[name]+")")
	}
	return fmt.Sprintf("Halted at %s: members after it keep their active credentials. Fix it, or annotate %s=<any new value> to resume past it.", strings.Join(parts, ", "), v1.AnnotationResume)
}

// conflictMessage names the members that another fleet selects too.
func conflictMessage(f fleetFacts) string {
	return fmt.Sprintf("%s also selected by another TableauFleet: each connection must be selected by one fleet; it rotates under neither until the selectors are fixed.", strings.Join(f.view.conflicted, ", "))
}

// setFleetHalted tells whether the wave stopped at a failed member, or was resumed past one.
func setFleetHalted(tf *v1.TableauFleet, f fleetFacts, set setCondition) {
	switch {
	case tf.Status.Halted:
		set(v1.ConditionHalted, metav1.ConditionTrue, v1.ReasonFleetHalted, haltedMessage(f))
	case len(f.acknowledged) > 0:
		set(v1.ConditionHalted, metav1.ConditionFalse, v1.ReasonFleetResumed, "Resumed past "+strings.Join(f.acknowledged, ", ")+".")
	default:
		set(v1.ConditionHalted, metav1.ConditionFalse, v1.ReasonFleetNotHalted, "")
	}
}

// setFleetVendorIncident suggests a vendor-side incident when members on one server fail with
// one reason close together.
func setFleetVendorIncident(f fleetFacts, set setCondition) {
	v := f.view
	if len(v.incidentMembers) >= 2 {
		set(v1.ConditionSuspectedVendorIncident, metav1.ConditionTrue, v1.ReasonVendorIncident,
			fmt.Sprintf("%d members on %s failed with %s within %s: %s. A batch failing together is rarely a per-tenant problem; check Tableau's status before changing credentials.",
				len(v.incidentMembers), v.incidentServer, v.incidentReason, VendorIncidentWindow, strings.Join(v.incidentMembers, ", ")))
		return
	}
	set(v1.ConditionSuspectedVendorIncident, metav1.ConditionFalse, v1.ReasonNoVendorIncident, "")
}

// setFleetReady is True when no rotation is pending and nothing waits for a person.
func setFleetReady(tf *v1.TableauFleet, f fleetFacts, set setCondition) {
	d := f.decision
	switch stateOf(tf, f) {
	case fleetHalted:
		set(v1.ConditionReady, metav1.ConditionFalse, v1.ReasonFleetHalted, haltedMessage(f))
	case fleetConflict:
		set(v1.ConditionReady, metav1.ConditionFalse, v1.ReasonFleetConflict, conflictMessage(f))
	case fleetRolling:
		msg := fmt.Sprintf("Rotating %s; %d pending.", strings.Join(append(slices.Clone(d.Rotating), d.Current...), ", "), len(d.Queued))
		if len(d.Validating) > 0 {
			msg += fmt.Sprintf(" %s still validating and holding its place (at most %s).", strings.Join(d.Validating, ", "), fleet.ValidationHold)
		}
		if len(d.Suspended) > 0 {
			msg += fmt.Sprintf(" Suspended, holding no slot: %s.", strings.Join(d.Suspended, ", "))
		}
		set(v1.ConditionReady, metav1.ConditionFalse, v1.ReasonFleetRolling, msg)
	default:
		msg := fmt.Sprintf("%d members, %d ready, no rotation pending.", tf.Status.Members, tf.Status.Ready)
		if len(d.Suspended) > 0 {
			msg += fmt.Sprintf(" Suspended: %s.", strings.Join(d.Suspended, ", "))
		}
		set(v1.ConditionReady, metav1.ConditionTrue, v1.ReasonFleetSettled, msg)
	}
}

// setFleetStalled is True while the wave waits for a person: halted, or a member in two fleets.
func setFleetStalled(tf *v1.TableauFleet, f fleetFacts, set setCondition) {
	switch stateOf(tf, f) {
	case fleetHalted:
		set(v1.ConditionStalled, metav1.ConditionTrue, v1.ReasonFleetHalted, "The wave waits for a person.")
	case fleetConflict:
		set(v1.ConditionStalled, metav1.ConditionTrue, v1.ReasonFleetConflict, conflictMessage(f))
	default:
		set(v1.ConditionStalled, metav1.ConditionFalse, v1.ReasonNotStalled, "")
	}
}

// setFleetReconciling is True while a wave rolls.
func setFleetReconciling(tf *v1.TableauFleet, f fleetFacts, set setCondition) {
	switch stateOf(tf, f) {
	case fleetHalted:
		set(v1.ConditionReconciling, metav1.ConditionFalse, v1.ReasonFleetHalted, "")
	case fleetConflict:
		set(v1.ConditionReconciling, metav1.ConditionFalse, v1.ReasonFleetConflict, "")
	case fleetRolling:
		set(v1.ConditionReconciling, metav1.ConditionTrue, v1.ReasonFleetRolling, "A wave is rolling.")
	default:
		set(v1.ConditionReconciling, metav1.ConditionFalse, v1.ReasonFleetSettled, "")
	}
}
