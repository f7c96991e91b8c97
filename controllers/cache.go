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
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

// CacheOptions keeps the informer caches small. The operator watches only the metadata of
// Secrets and ConfigMaps, never their data, and this transform drops what it does not use
// from that metadata too: managed fields everywhere, and the annotations and labels of
// metadata-only objects (kubectl's last-applied-configuration annotation of a Secret holds
// the Secret's data, which must not sit in the operator's memory).
func CacheOptions() cache.Options {
	return cache.Options{DefaultTransform: stripForCache}
}

func stripForCache(obj any) (any, error) {
	if m, ok := obj.(*metav1.PartialObjectMetadata); ok {
		if m.Labels[v1.LabelCredential] == v1.CredentialManaged {
			// The operator's own Secrets keep their mark, bundle annotations and owners:
			// comparing them from the cache keeps the steady state free of API reads. The
			// operator sets no last-applied annotation on them; drop any all the same.
			delete(m.Annotations, corev1.LastAppliedConfigAnnotation)
			m.ManagedFields, m.Finalizers = nil, nil
			return m, nil
		}
		m.Annotations, m.Labels, m.ManagedFields, m.OwnerReferences, m.Finalizers = nil, nil, nil, nil, nil
		return m, nil
	}
	if o, ok := obj.(metav1.Object); ok {
		o.SetManagedFields(nil)
	}
	return obj, nil
}
