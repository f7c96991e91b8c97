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
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

// DeleteSecret deletes a Secret, as a person with kubectl would.
func DeleteSecret(t *testing.T, ns, name string) {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	if err := K8s().Delete(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

// UpdateConnection applies mutate to the connection, retrying on conflicts with the operator's writes.
func UpdateConnection(t *testing.T, ns, name string, mutate func(*v1.TableauConnection)) {
	t.Helper()
	Eventually(t, 10*time.Second, "updating "+name, func() (bool, string) {
		c := Get(t, ns, name)
		mutate(c)
		if err := K8s().Update(context.Background(), c); err != nil {
			return false, err.Error()
		}
		return true, ""
	})
}
