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

package metrics

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

func cond(t string, s metav1.ConditionStatus) metav1.Condition {
	return metav1.Condition{Type: t, Status: s, Reason: "R", LastTransitionTime: metav1.Now()}
}

var (
	expires = time.Unix(1_900_000_000, 0)
	due     = time.Unix(1_800_000_000, 0)
)

func stateObjects() (*v1.TableauConnection, *v1.TableauConnection, *v1.TableauFleet) {
	failing := &v1.TableauConnection{ObjectMeta: metav1.ObjectMeta{Namespace: "t", Name: "marketing"}}
	failing.Status.Conditions = []metav1.Condition{cond(v1.ConditionReady, metav1.ConditionFalse), cond(v1.ConditionStalled, metav1.ConditionTrue),
		cond("SomethingNew", metav1.ConditionTrue)}
	failing.Status.LastFailure = &v1.FailureStatus{Bucket: "AuthConfigDrift", Reason: "SignInRejected"}
	failing.Status.Rotation = &v1.RotationStatus{Phase: v1.RotationFailed}

	healthy := &v1.TableauConnection{ObjectMeta: metav1.ObjectMeta{Namespace: "t", Name: "finance"}}
	healthy.Status.Conditions = []metav1.Condition{cond(v1.ConditionReady, metav1.ConditionTrue), cond(v1.ConditionRotationDue, metav1.ConditionUnknown)}
	healthy.Status.Credentials = &v1.CredentialStatus{ExpiresAt: &metav1.Time{Time: expires}}
	healthy.Status.Rotation = &v1.RotationStatus{Phase: "Invented", DueTime: &metav1.Time{Time: due}}

	fleet := &v1.TableauFleet{ObjectMeta: metav1.ObjectMeta{Namespace: "t", Name: "emea"}}
	fleet.Status.Conditions = []metav1.Condition{cond(v1.ConditionHalted, metav1.ConditionTrue), cond(v1.ConditionSuspectedVendorIncident, metav1.ConditionFalse)}
	return failing, healthy, fleet
}

func newScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := v1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStateCollector(t *testing.T) {
	failing, healthy, fleet := stateObjects()
	// A suspended connection is not failing, whatever its last failure was.
	suspended := &v1.TableauConnection{ObjectMeta: metav1.ObjectMeta{Namespace: "t", Name: "paused"}}
	suspended.Spec.Suspend = true
	suspended.Status.LastFailure = &v1.FailureStatus{Bucket: "ServerUnavailable"}
	c := fake.NewClientBuilder().WithScheme(newScheme(t)).WithObjects(failing, healthy, suspended, fleet).Build()
	const want = `
# HELP tableau_operator_connection_condition 1 for the current status of each condition of a TableauConnection (True, False or Unknown); the two others have no series.
# TYPE tableau_operator_connection_condition gauge
tableau_operator_connection_condition{name="finance",namespace="t",status="True",type="Ready"} 1
tableau_operator_connection_condition{name="finance",namespace="t",status="Unknown",type="RotationDue"} 1
tableau_operator_connection_condition{name="marketing",namespace="t",status="False",type="Ready"} 1
tableau_operator_connection_condition{name="marketing",namespace="t",status="True",type="Stalled"} 1
# HELP tableau_operator_connection_failure_bucket 1 for the failure bucket of a failing TableauConnection (status.lastFailure.bucket); no series while it works or is suspended.
# TYPE tableau_operator_connection_failure_bucket gauge
tableau_operator_connection_failure_bucket{bucket="AuthConfigDrift",name="marketing",namespace="t"} 1
# HELP tableau_operator_connection_ready 1 when the TableauConnection's Ready condition is True, else 0.
# TYPE tableau_operator_connection_ready gauge
tableau_operator_connection_ready{name="finance",namespace="t"} 1
tableau_operator_connection_ready{name="marketing",namespace="t"} 0
tableau_operator_connection_ready{name="paused",namespace="t"} 0
# HELP tableau_operator_connection_rotation_phase 1 for the current rotation phase of a TableauConnection with consumers (status.rotation.phase).
# TYPE tableau_operator_connection_rotation_phase gauge
tableau_operator_connection_rotation_phase{name="finance",namespace="t",phase="Other"} 1
tableau_operator_connection_rotation_phase{name="marketing",namespace="t",phase="Failed"} 1
# HELP tableau_operator_fleet_condition 1 for the current status of each condition of a TableauFleet (True, False or Unknown); the two others have no series.
# TYPE tableau_operator_fleet_condition gauge
tableau_operator_fleet_condition{name="emea",namespace="t",status="False",type="SuspectedVendorIncident"} 1
tableau_operator_fleet_condition{name="emea",namespace="t",status="True",type="Halted"} 1
# HELP tableau_operator_pat_expiration_timestamp_seconds Unix time at which the connection's PAT expires, from estimatedTimeToExpiration at the last sign-in.
# TYPE tableau_operator_pat_expiration_timestamp_seconds gauge
tableau_operator_pat_expiration_timestamp_seconds{name="finance",namespace="t"} 1.9e+09
# HELP tableau_operator_rotation_due_timestamp_seconds Unix time at which the active credential is due for rotation (maxAge or expiry, less renewBefore).
# TYPE tableau_operator_rotation_due_timestamp_seconds gauge
tableau_operator_rotation_due_timestamp_seconds{name="finance",namespace="t"} 1.8e+09
`
	collector := NewStateCollector(c)
	if err := testutil.CollectAndCompare(collector, strings.NewReader(want)); err != nil {
		t.Error(err)
	}

	// Deleting the objects deletes their series: nothing is left to report.
	ctx := context.Background()
	if err := c.Delete(ctx, failing); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, fleet); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(collector, "tableau_operator_connection_failure_bucket", "tableau_operator_fleet_condition"); n != 0 {
		t.Errorf("%d series of deleted objects remain", n)
	}
	if n := testutil.CollectAndCount(collector, "tableau_operator_connection_ready"); n != 2 {
		t.Errorf("connection_ready has %d series, want finance's and paused's", n)
	}
}
