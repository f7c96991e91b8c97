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
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/labels"
	toolscache "k8s.io/client-go/tools/cache"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

// A fleet reads every member on each reconcile. Through the client, even without a deep copy,
// the cache's list copies each member's struct into a new slice by reflection: at 1,000
// members that was most of the fleet's CPU in a wave and, with the garbage it left, a large
// part of the operator's (make bench, issue 23). The informer's own index hands out the
// cached objects themselves: the fleet only reads them, never changes them.

// useMemberIndex makes the fleet read its members from the connection informer's namespace
// index. Without it (a client that is no cache, as in the pure tests) the fleet lists.
func (r *TableauFleetReconciler) useMemberIndex(ctx context.Context, mgr ctrl.Manager) error {
	inf, err := mgr.GetCache().GetInformer(ctx, &v1.TableauConnection{})
	if err != nil {
		return err
	}
	si, ok := inf.(interface{ GetIndexer() toolscache.Indexer })
	if !ok {
		return nil // another cache: the list below serves
	}
	r.memberIndex = si.GetIndexer()
	return nil
}

// membersOf returns the connections in ns that sel selects, as cached: read-only.
func (r *TableauFleetReconciler) membersOf(ctx context.Context, ns string, sel labels.Selector) ([]*v1.TableauConnection, error) {
	if r.memberIndex == nil {
		var list v1.TableauConnectionList
		if err := r.List(ctx, &list, client.InNamespace(ns), client.MatchingLabelsSelector{Selector: sel}, client.UnsafeDisableDeepCopy); err != nil {
			return nil, err
		}
		out := make([]*v1.TableauConnection, len(list.Items))
		for i := range list.Items {
			out[i] = &list.Items[i]
		}
		return out, nil
	}
	objs, err := r.memberIndex.ByIndex(toolscache.NamespaceIndex, ns)
	if err != nil {
		return nil, err
	}
	var out []*v1.TableauConnection
	for _, o := range objs {
		c, ok := o.(*v1.TableauConnection)
		if !ok {
			return nil, fmt.Errorf("the connection cache holds a %T", o)
		}
		if sel.Matches(labels.Set(c.Labels)) {
			out = append(out, c)
		}
	}
	return out, nil
}
