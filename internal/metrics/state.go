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
		"1 for the current status of each condition of a TableauConnection (True, False or Unknown), 0 for the two others.",
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
		"1 for the current status of each condition of a TableauFleet (True, False or Unknown), 0 for the two others.",
		[]string{"namespace", "name", "type", "status"}, nil)
)

// Label values are bounded enums: a condition type, status, bucket or phase the operator does
// not define is reported as "Other", so nothing an object holds can grow a label's values.
var (
	connectionConditionTypes = []string{v1.ConditionReady, v1.ConditionReconciling, v1.ConditionStalled,
		v1.ConditionSignedIn, v1.ConditionAPIVersionSupported, v1.ConditionRotationDue, v1.ConditionWritesAccepted}
	fleetConditionTypes = []string{v1.ConditionReady, v1.ConditionReconciling, v1.ConditionStalled,
		v1.ConditionHalted, v1.ConditionSuspectedVendorIncident}
	conditionStatuses = []metav1.ConditionStatus{metav1.ConditionTrue, metav1.ConditionFalse, metav1.ConditionUnknown}
	rotationPhases    = []string{v1.RotationIdle, v1.RotationStaged, v1.RotationPromoting, v1.RotationRestarting,
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
		collectConditions(ch, fleetConditionDesc, f.Namespace, f.Name, f.Status.Conditions, fleetConditionTypes)
	}
}

func collectConnection(ch chan<- prometheus.Metric, conn *v1.TableauConnection) {
	ns, name, st := conn.Namespace, conn.Name, &conn.Status
	collectConditions(ch, connectionConditionDesc, ns, name, st.Conditions, connectionConditionTypes)
	ready := 0.0
	for _, cond := range st.Conditions {
		if cond.Type == v1.ConditionReady && cond.Status == metav1.ConditionTrue {
			ready = 1
		}
	}
	ch <- prometheus.MustNewConstMetric(connectionReadyDesc, prometheus.GaugeValue, ready, ns, name)
	if f := st.LastFailure; f != nil && !conn.Spec.Suspend {
		ch <- prometheus.MustNewConstMetric(failureBucketDesc, prometheus.GaugeValue, 1, ns, name, bucketLabel(f.Bucket))
	}
	if c := st.Credentials; c != nil && c.ExpiresAt != nil {
		ch <- prometheus.MustNewConstMetric(patExpirationDesc, prometheus.GaugeValue, float64(c.ExpiresAt.Unix()), ns, name)
	}
	if rs := st.Rotation; rs != nil {
		if rs.DueTime != nil {
			ch <- prometheus.MustNewConstMetric(rotationDueDesc, prometheus.GaugeValue, float64(rs.DueTime.Unix()), ns, name)
		}
		ch <- prometheus.MustNewConstMetric(rotationPhaseDesc, prometheus.GaugeValue, 1, ns, name, enumLabel(rs.Phase, rotationPhases))
	}
}

// collectConditions reports each known condition type the object has, one series per status.
func collectConditions(ch chan<- prometheus.Metric, desc *prometheus.Desc, ns, name string, conds []metav1.Condition, types []string) {
	for _, cond := range conds {
		if !slices.Contains(types, cond.Type) {
			continue
		}
		for _, s := range conditionStatuses {
			v := 0.0
			if cond.Status == s {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, ns, name, cond.Type, string(s))
		}
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
