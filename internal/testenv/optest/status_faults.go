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
	"errors"
	"sync"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// StatusFaultSet makes the operator's status writes fail in chosen namespaces, as a webhook, a
// conflict storm or an API server that is down would.
type StatusFaultSet struct {
	mu    sync.Mutex
	ns    map[string]bool
	after map[string]func() bool
	fails int
}

// Set makes the status writes in ns fail (failing) or go through again.
func (f *StatusFaultSet) Set(ns string, failing bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ns == nil {
		f.ns = map[string]bool{}
	}
	f.ns[ns] = failing
	if !failing {
		delete(f.after, ns)
	}
}

// FailAfter makes the status writes in ns fail once cond holds (for instance after the first
// sign-in, so the claim written before it goes through and the verdict's write fails).
func (f *StatusFaultSet) FailAfter(ns string, cond func() bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.after == nil {
		f.after = map[string]func() bool{}
	}
	f.after[ns] = cond
}

func (f *StatusFaultSet) failing(ns string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ns[ns] || (f.after[ns] != nil && f.after[ns]()) {
		f.fails++
		return true
	}
	return false
}

func (f *StatusFaultSet) Count() int { f.mu.Lock(); defer f.mu.Unlock(); return f.fails }

func (f *StatusFaultSet) wrap(c client.Client) client.Client {
	return &faultyClient{Client: c, faults: f}
}

type faultyClient struct {
	client.Client
	faults *StatusFaultSet
}

func (c *faultyClient) Status() client.SubResourceWriter {
	return &faultyStatus{SubResourceWriter: c.Client.Status(), faults: c.faults}
}

type faultyStatus struct {
	client.SubResourceWriter
	faults *StatusFaultSet
}

var errStatusWriteRefused = errors.New("status write refused by the test (a webhook, a conflict storm, an API server that is down)")

func (s *faultyStatus) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
	if s.faults.failing(obj.GetNamespace()) {
		return errStatusWriteRefused
	}
	return s.SubResourceWriter.Patch(ctx, obj, patch, opts...)
}

func (s *faultyStatus) Update(ctx context.Context, obj client.Object, opts ...client.SubResourceUpdateOption) error {
	if s.faults.failing(obj.GetNamespace()) {
		return errStatusWriteRefused
	}
	return s.SubResourceWriter.Update(ctx, obj, opts...)
}
