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
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

// CacheOptions keeps the informer caches small and confined to what is the operator's
// business. Secrets are watched only when they carry tableau-operator.dev/credential: "true"
// (an owner's consent to be read) or "managed" (written by the operator); CA-bundle
// ConfigMaps only with "true". A ConfigMap's certificates are public and need no consent,
// but the same label keeps that watch as flat as the Secret watch: unrelated Secrets and
// ConfigMaps cost the operator no memory, not even their metadata. Of what is watched the
// operator caches metadata only, never data, and this transform drops what it does not use
// from that metadata too: managed fields everywhere, and the annotations and every other
// label of metadata-only objects (kubectl's last-applied-configuration annotation of a Secret
// holds the Secret's data, which must not sit in the operator's memory). Callers may add
// namespaces (DefaultNamespaces) to the options returned. TableauConnections and
// TableauFleets are cached whole (the reconcilers read their status from the cache and patch
// it), less managed fields and kubectl's last-applied annotation.
func CacheOptions() cache.Options {
	return cache.Options{
		DefaultTransform: stripForCache,
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Secret{}:      {Label: credentialSelector(v1.CredentialConsent, v1.CredentialManaged)},
			&corev1.ConfigMap{}:   {Label: credentialSelector(v1.CredentialConsent)},
			&appsv1.Deployment{}:  {Transform: stripWorkload},
			&appsv1.StatefulSet{}: {Transform: stripWorkload},
			&appsv1.DaemonSet{}:   {Transform: stripWorkload},
		},
	}
}

// credentialSelector selects objects whose credential label has one of values.
func credentialSelector(values ...string) labels.Selector {
	req, err := labels.NewRequirement(v1.LabelCredential, selection.In, values)
	if err != nil {
		panic(err) // constant input: a bad value is a programming error
	}
	return labels.NewSelector().Add(*req)
}

func stripForCache(obj any) (any, error) {
	if m, ok := obj.(*metav1.PartialObjectMetadata); ok {
		value, labelled := m.Labels[v1.LabelCredential]
		if value == v1.CredentialManaged {
			// The operator's own Secrets keep their mark, bundle annotations and owners:
			// comparing them from the cache keeps the steady state free of API reads. The
			// operator sets no last-applied annotation on them; drop any all the same.
			delete(m.Annotations, corev1.LastAppliedConfigAnnotation)
			m.ManagedFields, m.Finalizers = nil, nil
			return m, nil
		}
		m.Annotations, m.ManagedFields, m.OwnerReferences, m.Finalizers = nil, nil, nil, nil
		if !labelled {
			m.Labels = nil
			return m, nil
		}
		// Deleted in place: a new map for each of 10,000 Secrets cost 3 MiB at 10,000
		// connections, where most Secrets carry no other label.
		for k := range m.Labels {
			if k != v1.LabelCredential {
				delete(m.Labels, k)
			}
		}
		return m, nil
	}
	if o, ok := obj.(metav1.Object); ok {
		o.SetManagedFields(nil)
	}
	switch o := obj.(type) {
	case *v1.TableauConnection, *v1.TableauFleet:
		// kubectl apply's copy of the whole object, read by nothing here: the reconcilers
		// write only status, with merge patches computed between two cached copies, so
		// what the cache leaves out is never written back and stays on the server.
		delete(o.(metav1.Object).GetAnnotations(), corev1.LastAppliedConfigAnnotation)
	}
	switch o := obj.(type) {
	case *v1.TableauConnection:
		compactConnection(o)
	case *v1.TableauFleet:
		compactFleet(o)
	}
	return obj, nil
}

// stripWorkload keeps of a Deployment, StatefulSet or DaemonSet what the health gate reads
// (rolledOut): its generation, replicas, status and the pod template's restart annotation.
// Restart targets are watched so a rollout wakes the rotation instead of a poll reading them
// through the API server; the pod template, the bulk of a workload, is dropped, so a cluster's
// workloads cost the operator little memory.
func stripWorkload(obj any) (any, error) {
	var tmpl *corev1.PodTemplateSpec
	switch w := obj.(type) {
	case *appsv1.Deployment:
		tmpl = &w.Spec.Template
		w.Spec.Selector, w.Spec.Strategy = nil, appsv1.DeploymentStrategy{}
	case *appsv1.StatefulSet:
		tmpl = &w.Spec.Template
		w.Spec.Selector, w.Spec.VolumeClaimTemplates = nil, nil
	case *appsv1.DaemonSet:
		tmpl = &w.Spec.Template
		w.Spec.Selector = nil
	default:
		return obj, nil
	}
	// Status conditions (their messages) are not read by rolledOut either.
	switch w := obj.(type) {
	case *appsv1.Deployment:
		w.Status.Conditions = nil
	case *appsv1.StatefulSet:
		w.Status.Conditions = nil
	case *appsv1.DaemonSet:
		w.Status.Conditions = nil
	}
	restartedAt, stamped := tmpl.Annotations[v1.AnnotationRestartedAt]
	*tmpl = corev1.PodTemplateSpec{}
	if stamped {
		tmpl.Annotations = map[string]string{v1.AnnotationRestartedAt: restartedAt}
	}
	o := obj.(metav1.Object)
	o.SetManagedFields(nil)
	o.SetAnnotations(nil)
	o.SetLabels(nil)
	o.SetOwnerReferences(nil)
	return obj, nil
}
