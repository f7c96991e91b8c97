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

package optest

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SecretQuotaUsedUp makes a ResourceQuota that admits no new Secret in ns. envtest runs no
// quota controller, so the quota's status (hard and used) is written here; the API server's
// quota admission plugin reads it.
func SecretQuotaUsedUp(t *testing.T, ns string) *corev1.ResourceQuota {
	t.Helper()
	zero := resource.MustParse("0")
	q := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "secrets", Namespace: ns},
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourceSecrets: zero}}}
	Create(t, q)
	q.Status = corev1.ResourceQuotaStatus{Hard: corev1.ResourceList{corev1.ResourceSecrets: zero}, Used: corev1.ResourceList{corev1.ResourceSecrets: zero}}
	if err := K8s().Status().Update(context.Background(), q); err != nil {
		t.Fatal(err)
	}
	return q
}
