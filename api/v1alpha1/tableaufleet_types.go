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

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TableauFleetSpec selects TableauConnections and rolls their pending rotations out one
// tenant at a time.
type TableauFleetSpec struct {
	// selector picks the member TableauConnections in the fleet's namespace by label.
	// +required
	Selector metav1.LabelSelector `json:"selector"`

	// rollout paces the wave.
	// +optional
	Rollout FleetRollout `json:"rollout,omitempty"`
}

// FleetRollout paces a wave of rotations.
type FleetRollout struct {
	// maxConcurrent is how many members may rotate at once. Default 1.
	// +optional
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	MaxConcurrent int32 `json:"maxConcurrent,omitempty"`

	// pauseBetween waits this long after a member completes before the next one starts.
	// +optional
	// +kubebuilder:validation:Type=string
	PauseBetween *metav1.Duration `json:"pauseBetween,omitempty"`

	// haltOnFailure stops the wave when a member's rotation fails or its candidate is
	// rejected: later members keep their active credentials until the failed one is fixed or
	// the wave is resumed with the tableau-operator.dev/resume annotation. Default true.
	// +optional
	// +kubebuilder:default=true
	HaltOnFailure *bool `json:"haltOnFailure,omitempty"`
}

// TableauFleetStatus is the wave's state.
type TableauFleetStatus struct {
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Counts of members.
	// +optional
	Members int32 `json:"members,omitempty"`
	// +optional
	Ready int32 `json:"ready,omitempty"`
	// +optional
	Rotating int32 `json:"rotating,omitempty"`
	// +optional
	Pending int32 `json:"pending,omitempty"`
	// halted is true while a failed member stops the wave.
	// +optional
	Halted bool `json:"halted,omitempty"`

	// current lists the members granted a slot to promote now, in rollout order. Members
	// already rotating hold their slots (counted in rotating) without being listed.
	// +optional
	// +listType=atomic
	Current []string `json:"current,omitempty"`
	// suspended lists the members with spec.suspend: they take no slot and hold no place in
	// the wave until they are resumed.
	// +optional
	// +listType=atomic
	Suspended []string `json:"suspended,omitempty"`
	// failed lists the members whose rotation failed or whose candidate was rejected.
	// +optional
	// +listType=atomic
	Failed []string `json:"failed,omitempty"`
	// acknowledged lists failed members a resume let the wave pass.
	// +optional
	// +listType=atomic
	Acknowledged []string `json:"acknowledged,omitempty"`
	// lastCompletionTime is when a member last completed a rotation (for pauseBetween).
	// +optional
	LastCompletionTime *metav1.Time `json:"lastCompletionTime,omitempty"`
	// lastHandledResume echoes the tableau-operator.dev/resume annotation last acted on.
	// +optional
	LastHandledResume string `json:"lastHandledResume,omitempty"`
}

// TableauFleet rolls credential rotations out across tenants one at a time, halting on failure.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=tabfleet,categories=tableau
// +kubebuilder:printcolumn:name="Members",type=integer,JSONPath=`.status.members`
// +kubebuilder:printcolumn:name="Ready",type=integer,JSONPath=`.status.ready`
// +kubebuilder:printcolumn:name="Rotating",type=integer,JSONPath=`.status.rotating`
// +kubebuilder:printcolumn:name="Pending",type=integer,JSONPath=`.status.pending`
// +kubebuilder:printcolumn:name="Halted",type=boolean,JSONPath=`.status.halted`
// +kubebuilder:printcolumn:name="Current",type=string,JSONPath=`.status.current`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Message",type=string,priority=1,JSONPath=`.status.conditions[?(@.type=="Halted")].message`
type TableauFleet struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec   TableauFleetSpec   `json:"spec"`
	Status TableauFleetStatus `json:"status,omitempty"`
}

// TableauFleetList is a list of TableauFleets.
// +kubebuilder:object:root=true
type TableauFleetList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []TableauFleet `json:"items"`
}

func init() {
	SchemeBuilder.Register(&TableauFleet{}, &TableauFleetList{})
}
