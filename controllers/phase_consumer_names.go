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
)

// checkConsumerNames stops validation before any Tableau call when a Secret name the
// operator would write is taken by a Secret it did not create for this connection; the
// planner then reports it on ConsumersReady and touches nothing.
func (r *consumerNamesPhase) checkConsumerNames(ctx context.Context, s *scope) outcome {
	conn := s.conn
	if conn.Spec.Consumers == nil {
		return proceeded()
	}
	fresh := false
	for i, name := range []string{conn.Spec.Consumers.SecretName, candidateName(conn), previousName(conn)} {
		c, _, err := r.observeCopy(ctx, conn, name, false)
		if err != nil {
			return failed(err)
		}
		if !c.Exists && (i == 0 || fresh) {
			// The cache holds only labelled Secrets, so someone else's Secret by this name is
			// invisible to it. The operator's own consumer Secret is missing from the cache
			// only before it is first written (or after someone deleted it): then a direct
			// metadata read of it and of its siblings tells, before any Tableau call. Once it
			// is published, the siblings are read fresh before anything is written to them.
			fresh = true
			if c, _, err = r.observeCopy(ctx, conn, name, true); err != nil {
				return failed(err)
			}
		}
		if c.Exists && !c.Ours {
			s.nameTaken = true
			return stopped()
		}
	}
	return proceeded()
}
