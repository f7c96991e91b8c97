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

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

// The candidate Secret's content, as this process wrote it, is kept in the connection's
// memory (connMemory.candidate) from staging until the candidate is deleted, so the turn
// that checks and promotes it, often minutes later in a wave, does not read it back through
// the API reader. It is used only while the Secret observed (from the metadata cache) has the
// UID and resourceVersion the write was answered with: a resourceVersion names one content,
// so the memory is exactly what the API server holds. An edit, a replacement or a restart
// of the process falls back to the read. Only the candidate is kept: it is the one copy the
// operator itself wrote moments or minutes before it needs it, and a bundle per connection
// in rotation at most, never every consumer's live credential.

// rememberCandidate keeps the candidate Secret just written (the API server's answer).
func (m *memory) rememberCandidate(conn *v1.TableauConnection, sec *corev1.Secret) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entry(conn).candidate = sec.DeepCopy()
}

// forgetCandidate drops the kept candidate: it was deleted.
func (m *memory) forgetCandidate(conn *v1.TableauConnection) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entry(conn).candidate = nil
}

// candidateAt returns a copy of the kept candidate when it is the version observed, else nil.
// Another resourceVersion may be a cache behind this process's write, so the copy is kept for
// a later look; another UID is another Secret, and the copy is forgotten.
func (m *memory) candidateAt(conn *v1.TableauConnection, observed *metav1.PartialObjectMetadata) *corev1.Secret {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.entry(conn)
	if e.candidate == nil || observed == nil {
		return nil
	}
	if e.candidate.UID != observed.UID {
		e.candidate = nil
		return nil
	}
	if e.candidate.ResourceVersion != observed.ResourceVersion {
		return nil
	}
	return e.candidate.DeepCopy()
}
