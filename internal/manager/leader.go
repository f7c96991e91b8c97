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

package manager

import (
	"os"
	"strings"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
)

// leaderElectionID names the leader election Lease of an install.
const leaderElectionID = "tableau-operator.tableau-operator.dev"

// The leader election clock. A new leader may take the Lease leaseDuration after the old one
// last renewed it; the old one gives up renewing renewDeadline after its last renewal, and
// then (controller-runtime skips the grace period when the lease is lost) stops at once. At a
// planned stop (a rollout, a drain) the old leader keeps renewing while its reconciles finish
// within gracefulShutdown, and only then releases the Lease (release on cancel), so the new
// leader starts right after the old one stopped acting, never while it still acts. The grace
// period is shorter than the lease so that even a leader whose renewals fail during the
// grace period has stopped before another may take over: the defaults were a 30 s grace
// period against a 15 s lease.
const (
	leaseDuration    = 15 * time.Second
	renewDeadline    = 10 * time.Second
	retryPeriod      = 2 * time.Second
	gracefulShutdown = 10 * time.Second
)

// managerOptions are the manager's leader election options; Run adds the rest.
func managerOptions(leaderElect bool, leaderElectionNamespace string) ctrl.Options {
	lease, renew, retry, grace := leaseDuration, renewDeadline, retryPeriod, gracefulShutdown
	return ctrl.Options{
		LeaderElection:                leaderElect,
		LeaderElectionID:              leaderElectionID,
		LeaderElectionNamespace:       leaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
		LeaseDuration:                 &lease,
		RenewDeadline:                 &renew,
		RetryPeriod:                   &retry,
		GracefulShutdownTimeout:       &grace,
	}
}

// serviceAccountNamespace is where a pod's namespace is mounted.
var serviceAccountNamespace = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// defaultInstallID is <namespace>/<leader election ID>: the replicas that share one leader
// election Lease are one install already, and two installs never share one (the Lease is in
// the install's namespace). The namespace is --leader-election-namespace, else the pod's,
// else (outside a cluster) the host's name.
func defaultInstallID(leaderElectionNamespace string) string {
	ns := leaderElectionNamespace
	if ns == "" {
		if b, err := os.ReadFile(serviceAccountNamespace); err == nil {
			ns = strings.TrimSpace(string(b))
		}
	}
	if ns == "" {
		ns, _ = os.Hostname()
	}
	return ns + "/" + leaderElectionID
}
