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

package connection

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/metrics"
	. "github.com/tableau-operator/tableau-operator/internal/testenv/optest"
)

// A rotation whose candidate copy cannot be written (the namespace's Secret quota is used up)
// says so on WritesAccepted, Ready and Stalled with the API's reason and a next step, counts
// it, tells it in an event, and goes on once the quota allows the write.
func TestRefusedWriteOverQuotaReachesStatus(t *testing.T) {
	t.Parallel()
	w := NewWorld(t)
	w.SoloTenant(t, "quota")
	before := testutil.ToFloat64(metrics.RefusedWrites.WithLabelValues(v1.ReasonWriteQuotaExceeded))
	q := SecretQuotaUsedUp(t, w.NS)
	w.SetSource(t, "quota", "quota-v2", w.Pat(t, "quota", "quota-v2", false))
	c := WaitFor(t, w.NS, "quota", "the refused write on WritesAccepted", func(c *v1.TableauConnection) bool {
		wa := Condition(c, v1.ConditionWritesAccepted)
		return wa.Status == metav1.ConditionFalse && wa.Reason == v1.ReasonWriteQuotaExceeded
	})
	wa := Condition(c, v1.ConditionWritesAccepted)
	if !strings.Contains(wa.Message, `create Secret "quota-tableau-candidate"`) || !strings.Contains(wa.Message, "exceeded quota") || !strings.Contains(wa.Message, "Next step: raise the namespace's ResourceQuota") {
		t.Errorf("WritesAccepted message = %q", wa.Message)
	}
	if r := Condition(c, v1.ConditionReady); r.Status != metav1.ConditionFalse || r.Reason != v1.ReasonWriteQuotaExceeded {
		t.Errorf("Ready = %+v", r)
	}
	if s := Condition(c, v1.ConditionStalled); s.Status != metav1.ConditionTrue || s.Reason != v1.ReasonWriteQuotaExceeded {
		t.Errorf("Stalled = %+v", s)
	}
	if rw := c.Status.RefusedWrite; rw == nil || rw.Verb != "create" || rw.Kind != "Secret" || rw.Name != "quota-tableau-candidate" {
		t.Errorf("refusedWrite = %+v", rw)
	}
	ConditionsAreCurrent(t, c)
	if got := string(w.Consumer(t, "quota").Data["tokenName"]); got != "quota-v1" {
		t.Errorf("consumer holds %s while the candidate cannot be written", got)
	}
	if v := testutil.ToFloat64(metrics.RefusedWrites.WithLabelValues(v1.ReasonWriteQuotaExceeded)); v <= before {
		t.Errorf("refused writes counter = %v, was %v", v, before)
	}
	WaitForEvent(t, w.NS, "quota", "Warning/"+v1.ReasonWriteQuotaExceeded)
	// The quota is lifted: the next retry writes the candidate and the rotation completes.
	if err := K8s().Delete(context.Background(), q); err != nil {
		t.Fatal(err)
	}
	c = w.Settled(t, "quota", "quota-v2")
	if wa := Condition(c, v1.ConditionWritesAccepted); wa.Status != metav1.ConditionTrue || c.Status.RefusedWrite != nil {
		t.Errorf("after the quota went: WritesAccepted = %+v, refusedWrite = %+v", wa, c.Status.RefusedWrite)
	}
}
