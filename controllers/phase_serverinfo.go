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
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/callgate"
	"github.com/tableau-operator/tableau-operator/internal/classify"
	"github.com/tableau-operator/tableau-operator/internal/gatedclient"
	"github.com/tableau-operator/tableau-operator/internal/tableau"
)

// probeServer asks serverinfo, shared by every connection to the server, and compares the
// server's REST API version with the pin. It needs no credential.
func (r *serverInfoPhase) probeServer(ctx context.Context, s *scope) outcome {
	conn := s.conn
	if _, ok := s.credErr.(*classify.CABundleError); ok {
		r.recordFailure(ctx, s, v1.StageCredentials, s.credErr)
		return stopped()
	}
	c, serverKey, err := r.clientFor(conn, s.caPEM)
	if err != nil {
		// The CRD's validation admits only servers and versions the client accepts.
		return failed(fmt.Errorf("building the Tableau client: %w", err))
	}
	s.client = c
	if until := c.HoldsBack(callgate.ServerInfo); !until.IsZero() {
		// The call gate is closed (throttling, an outage, or a recorded failure whose status
		// write may have failed): no call of this connection goes out before until.
		return r.gateClosed(ctx, s, until)
	}
	interval := serverCheckInterval(conn)
	res := r.ServerInfo.Get(ctx, serverKey, interval, c.ServerInfo)
	if held, ok := gatedclient.AsHeld(res.Err); ok {
		return r.gateClosed(ctx, s, held.Until)
	}
	if res.Err != nil {
		r.recordFailure(ctx, s, v1.StageServer, res.Err)
		return stopped()
	}
	s.requeueIn(jitter(interval))
	info := res.Info
	st := conn.Status.Server
	if st == nil || st.RESTAPIVersion != info.RESTAPIVersion || st.ProductVersion != info.ProductVersion || st.Build != info.Build ||
		s.now.Sub(st.CheckedAt.Time) >= time.Hour {
		conn.Status.Server = &v1.ServerStatus{ProductVersion: info.ProductVersion, Build: info.Build, RESTAPIVersion: info.RESTAPIVersion,
			CheckedAt: metav1.NewTime(res.FetchedAt)}
	}
	if v, drift := classify.Versions(conn.Spec.APIVersion, info.RESTAPIVersion); drift {
		if f := conn.Status.LastFailure; f != nil && f.Reason == v.Reason && !failureInputsChanged(s) {
			// The same drift as before: nothing new to record until the server or pin changes.
			return stopped()
		}
		r.recordVerdict(ctx, s, v1.StageServer, v, &tableau.Error{Endpoint: "GET /api/" + tableau.ServerInfoAPIVersion + "/serverinfo",
			HTTPStatus: 200, RequestID: info.RequestID, Latency: info.Latency, Body: tableau.BodyTableauXML})
		return stopped()
	}
	if f := conn.Status.LastFailure; f != nil && f.Stage == v1.StageServer {
		// serverinfo answers and the pin is supported again. The credential was not the
		// problem, so OnChange does not sign in again for it: no workload session is ended.
		conn.Status.LastFailure = nil
	}
	return proceeded()
}

func serverCheckInterval(conn *v1.TableauConnection) time.Duration {
	if d := conn.Spec.Validation.ServerCheckInterval; d != nil && d.Duration > 0 {
		return d.Duration
	}
	return DefaultServerCheckInterval
}
