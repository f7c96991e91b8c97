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
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/classify"
)

// The state metrics are read from the objects in the manager's cache at scrape time, the way
// cert-manager's and kube-state-metrics' collectors do: a series exists exactly while its
// object does, so a deleted connection or fleet leaves no stale series behind, and every
// replica (leader or not) reports the same state.
var (
	connectionConditionDesc = prometheus.NewDesc("tableau_operator_connection_condition",
		"1 for the current status of each condition of a TableauConnection (True, False or Unknown); the two others have no series.",
		[]string{"namespace", "name", "type", "status"}, nil)
	connectionReadyDesc = prometheus.NewDesc("tableau_operator_connection_ready",
		"1 when the TableauConnection's Ready condition is True, else 0.",
		[]string{"namespace", "name"}, nil)
	failureBucketDesc = prometheus.NewDesc("tableau_operator_connection_failure_bucket",
		"1 for the failure bucket of a failing TableauConnection (status.lastFailure.bucket); no series while it works or is suspended.",
		[]string{"namespace", "name", "bucket"}, nil)
	patExpirationDesc = prometheus.NewDesc("tableau_operator_pat_expiration_timestamp_seconds",
		"Unix time at which the connection's PAT expires, from estimatedTimeToExpiration at the last sign-in.",
		[]string{"namespace", "name"}, nil)
	rotationDueDesc = prometheus.NewDesc("tableau_operator_rotation_due_timestamp_seconds",
		"Unix time at which the active credential is due for rotation (maxAge or expiry, less renewBefore).",
		[]string{"namespace", "name"}, nil)
	rotationPhaseDesc = prometheus.NewDesc("tableau_operator_connection_rotation_phase",
		"1 for the current rotation phase of a TableauConnection with consumers (status.rotation.phase).",
		[]string{"namespace", "name", "phase"}, nil)
	fleetConditionDesc = prometheus.NewDesc("tableau_operator_fleet_condition",
		"1 for the current status of each condition of a TableauFleet (True, False or Unknown); the two others have no series.",
		[]string{"namespace", "name", "type", "status"}, nil)
)

// Label values are bounded enums: a condition type, status, bucket or phase the operator does
// not define is reported as "Other", so nothing an object holds can grow a label's values.
var (
	connectionConditionTypes = []string{v1.ConditionReady, v1.ConditionReconciling, v1.ConditionStalled,
		v1.ConditionSignedIn, v1.ConditionAPIVersionSupported, v1.ConditionRotationDue, v1.ConditionConsumersReady,
		v1.ConditionWritesAccepted, v1.ConditionClaimed}
	fleetConditionTypes = []string{v1.ConditionReady, v1.ConditionReconciling, v1.ConditionStalled,
		v1.ConditionHalted, v1.ConditionSuspectedVendorIncident}
	statusLabels   = []string{string(metav1.ConditionTrue), string(metav1.ConditionFalse), string(metav1.ConditionUnknown)}
	rotationPhases = []string{v1.RotationIdle, v1.RotationStaged, v1.RotationPromoting, v1.RotationRestarting,
		v1.RotationGating, v1.RotationCompleting, v1.RotationRollingBack, v1.RotationFailed}
)

// Other is the label value of anything outside a label's enum.
const Other = "Other"

// scrapeTimeout bounds how long a scrape waits for the cache (it waits for the first sync).
const scrapeTimeout = 5 * time.Second

// StateCollector reports TableauConnections and TableauFleets from a cache at scrape time.
type StateCollector struct {
	reader client.Reader
}

// NewStateCollector reads objects from reader, normally the manager's cache.
func NewStateCollector(reader client.Reader) *StateCollector {
	return &StateCollector{reader: reader}
}

// Describe implements prometheus.Collector.
func (c *StateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{connectionConditionDesc, connectionReadyDesc, failureBucketDesc,
		patExpirationDesc, rotationDueDesc, rotationPhaseDesc, fleetConditionDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. A list that fails is logged and its series left
// out of this scrape: the operator's other metrics are still served.
func (c *StateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	log := ctrl.Log.WithName("metrics")
	// The collector only reads, so the cache's objects need no copy.
	var conns v1.TableauConnectionList
	if err := c.reader.List(ctx, &conns, client.UnsafeDisableDeepCopy); err != nil {
		log.Error(err, "listing TableauConnections for the state metrics")
	}
	for i := range conns.Items {
		collectConnection(ch, &conns.Items[i])
	}
	var fleets v1.TableauFleetList
	if err := c.reader.List(ctx, &fleets, client.UnsafeDisableDeepCopy); err != nil {
		log.Error(err, "listing TableauFleets for the state metrics")
	}
	for i := range fleets.Items {
		f := &fleets.Items[i]
		collectConditions(newObjectSeries(ch, f.Namespace, f.Name, len(f.Status.Conditions), len(fleetConditionTypes), 0), fleetConditionDesc, f.Status.Conditions, fleetConditionTypes)
	}
}

func collectConnection(ch chan<- prometheus.Metric, conn *v1.TableauConnection) {
	st := &conn.Status
	other := 1 // ready
	if st.LastFailure != nil && !conn.Spec.Suspend {
		other++
	}
	if st.Credentials != nil && st.Credentials.ExpiresAt != nil {
		other++
	}
	if st.Rotation != nil {
		other++
		if st.Rotation.DueTime != nil {
			other++
		}
	}
	o := newObjectSeries(ch, conn.Namespace, conn.Name, len(st.Conditions), len(connectionConditionTypes), other)
	collectConditions(o, connectionConditionDesc, st.Conditions, connectionConditionTypes)
	ready := 0.0
	for _, cond := range st.Conditions {
		if cond.Type == v1.ConditionReady && cond.Status == metav1.ConditionTrue {
			ready = 1
		}
	}
	o.send(connectionReadyDesc, ready, nil)
	if f := st.LastFailure; f != nil && !conn.Spec.Suspend {
		o.send(failureBucketDesc, 1, []string{"bucket", bucketLabel(f.Bucket)})
	}
	if c := st.Credentials; c != nil && c.ExpiresAt != nil {
		o.send(patExpirationDesc, float64(c.ExpiresAt.Unix()), nil)
	}
	if rs := st.Rotation; rs != nil {
		if rs.DueTime != nil {
			o.send(rotationDueDesc, float64(rs.DueTime.Unix()), nil)
		}
		o.send(rotationPhaseDesc, 1, nil, "phase", enumLabel(rs.Phase, rotationPhases))
	}
}

// collectConditions reports each known condition type the object has, one series for its
// current status. (A series of 0 for each other status tripled a scrape: 100,000 series of
// zeros at 10,000 connections, built on every scrape; alerts select status="True" or
// status="False" == 1 either way.)
func collectConditions(o *objectSeries, desc *prometheus.Desc, conds []metav1.Condition, types []string) {
	var seen uint64 // by index in types, which holds fewer than 64
	for _, cond := range conds {
		i := slices.Index(types, cond.Type)
		if i < 0 || seen&(1<<i) != 0 {
			continue
		}
		seen |= 1 << i
		o.send(desc, 1, nil, "status", enumLabel(string(cond.Status), statusLabels), "type", cond.Type)
	}
}

func bucketLabel(b string) string {
	if slices.Contains(classify.Buckets, classify.Bucket(b)) {
		return b
	}
	return Other
}

func enumLabel(v string, allowed []string) string {
	if slices.Contains(allowed, v) {
		return v
	}
	return Other
}

// registered is the state collector on the registry now: a manager started again in the same
// process (tests restart it) replaces it rather than failing on a duplicate registration.
var registered struct {
	sync.Mutex
	c *StateCollector
}

// RegisterState puts a state collector reading from reader on controller-runtime's registry,
// replacing the one registered before, if any.
func RegisterState(reader client.Reader) error {
	registered.Lock()
	defer registered.Unlock()
	if registered.c != nil {
		ctrlmetrics.Registry.Unregister(registered.c)
	}
	c := NewStateCollector(reader)
	if err := ctrlmetrics.Registry.Register(c); err != nil {
		return err
	}
	registered.c = c
	return nil
}
