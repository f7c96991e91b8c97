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
	"path/filepath"
	"testing"
)

// TestLeaderStopsBeforeAnotherStarts: the old leader releases the Lease only once it stopped
// (release on cancel), and its grace period ends before the window in which a leader whose
// renewals fail could be replaced: lease duration minus renew deadline would be the strict
// bound for a lost lease, which controller-runtime ends with no grace at all; a planned stop
// keeps renewing, so the grace period must only be shorter than the lease.
func TestLeaderStopsBeforeAnotherStarts(t *testing.T) {
	o := managerOptions(true, "ops")
	if !o.LeaderElection || o.LeaderElectionID != leaderElectionID || o.LeaderElectionNamespace != "ops" {
		t.Fatalf("leader election not configured: %+v", o)
	}
	if !o.LeaderElectionReleaseOnCancel {
		t.Error("LeaderElectionReleaseOnCancel is off: a new leader waits out the lease, or starts while the old one still acts")
	}
	if o.LeaseDuration == nil || o.RenewDeadline == nil || o.RetryPeriod == nil || o.GracefulShutdownTimeout == nil {
		t.Fatal("the leader election clock is left to controller-runtime's defaults, whose grace period (30 s) outlasts the lease (15 s)")
	}
	if !(*o.GracefulShutdownTimeout < *o.LeaseDuration) {
		t.Errorf("graceful shutdown %s is not shorter than the lease %s", *o.GracefulShutdownTimeout, *o.LeaseDuration)
	}
	if !(*o.RetryPeriod < *o.RenewDeadline && *o.RenewDeadline < *o.LeaseDuration) {
		t.Errorf("retry %s < renew deadline %s < lease %s does not hold", *o.RetryPeriod, *o.RenewDeadline, *o.LeaseDuration)
	}
}

func TestDefaultInstallID(t *testing.T) {
	if got := defaultInstallID("ops"); got != "ops/"+leaderElectionID {
		t.Errorf("with --leader-election-namespace: %q", got)
	}
	dir := t.TempDir()
	f := filepath.Join(dir, "namespace")
	if err := os.WriteFile(f, []byte("tableau-operator-system\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	old := serviceAccountNamespace
	serviceAccountNamespace = f
	t.Cleanup(func() { serviceAccountNamespace = old })
	if got := defaultInstallID(""); got != "tableau-operator-system/"+leaderElectionID {
		t.Errorf("in a pod: %q", got)
	}
}
