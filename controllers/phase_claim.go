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
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/metrics"
)

// Two installs of the operator (a namespaced one beside a cluster-wide one, each with its own
// leader) would both act on the connections they both watch: every admin sign-in ends the
// other's session, sign-ins double, a retired secret is deleted twice. Leader election
// cannot help, it is per install. So each connection carries a claim in status.claim, a
// Lease kept in the object's own status rather than a coordination.k8s.io Lease beside it:
//   - no second object per connection, no Lease RBAC in every watched namespace, no Lease
//     informer; the claim arrives with the connection the cache already holds;
//   - taking and renewing it is a status patch with the connection's resourceVersion as a
//     precondition, the same optimistic lock a Lease update has; a metadata annotation would
//     have worked as well, but its change wakes every install's watch (the connection's
//     predicate passes annotation changes) where a status change wakes none;
//   - a first claim rides on the connection's first status write (the validation result),
//     which then carries the resourceVersion precondition: of two installs that both
//     validated a new connection, one writes and the other gets a conflict, reads again and
//     stands aside. The price is that window: a brand-new connection may be validated once
//     by each install before either's claim is written; nothing else acts before the first
//     write (the rollout persists, locked, before it writes a Secret). A separate claim write
//     first cost a second status write per new connection (issue 23's budget is one);
//   - a renewal rides on a status write that happens anyway once half the claim's duration
//     has passed, and is written alone only when three quarters have passed without one: an
//     idle connection costs one write per connection every 22.5 minutes at the default 30,
//     a connection whose status changes anyway none of its own. A takeover of another
//     install's lapsed claim is written at once, before anything acts.

// DefaultClaimDuration is how long a claim lasts after its renewal when the reconciler sets
// none: how long another install waits before it takes over connections an install left
// (uninstalled, or scaled to 0) without a word.
const DefaultClaimDuration = 30 * time.Minute

// DefaultInstallID is the install identity of a reconciler without one (tests and tools);
// the manager always sets --install-id or its default.
const DefaultInstallID = "tableau-operator"

// claimVerdict is what an install does with a connection given its claim.
type claimVerdict int

const (
	// claimHeld: this install holds a live claim that needs no renewal yet: act.
	claimHeld claimVerdict = iota
	// claimTake: nobody holds a live claim (none yet, or it expired): take it, then act.
	claimTake
	// claimRide: this install holds it and less than half its duration remains: act, and
	// renew it with any status write this reconcile makes.
	claimRide
	// claimRenew: this install holds it and less than a quarter of its duration remains:
	// write the renewal now.
	claimRenew
	// claimStandAside: another install holds a live claim: act on nothing.
	claimStandAside
)

// claimExpiry is when c lapses.
func claimExpiry(c *v1.ClaimStatus) time.Time {
	return c.RenewTime.Add(time.Duration(c.DurationSeconds) * time.Second)
}

// claimLive says whether c is held by someone at now.
func claimLive(c *v1.ClaimStatus, now time.Time) bool {
	return c != nil && c.Holder != "" && now.Before(claimExpiry(c))
}

// decideClaim is the pure decision of the claim phase, and after when the install must look
// again: the holder when a renewal must be written alone, an install standing aside when the
// claim would lapse (it takes the connection over then, if nobody renewed it).
func decideClaim(c *v1.ClaimStatus, self string, now time.Time) (claimVerdict, time.Duration) {
	switch {
	case !claimLive(c, now):
		return claimTake, 0
	case c.Holder != self:
		return claimStandAside, claimExpiry(c).Sub(now) + time.Second
	}
	d := time.Duration(c.DurationSeconds) * time.Second
	rideFrom, writeAt := c.RenewTime.Add(d/2), c.RenewTime.Add(d*3/4)
	switch {
	case !now.Before(writeAt):
		return claimRenew, 0
	case !now.Before(rideFrom):
		return claimRide, writeAt.Sub(now)
	}
	return claimHeld, writeAt.Sub(now)
}

// pendingClaim is a claim this reconcile writes with its next status write (see persistWith):
// always, for a first claim (the write is then locked), or only when something else of status
// is written, for a renewal that rides.
type pendingClaim struct {
	next   *v1.ClaimStatus
	always bool
}

// applyFirst puts a first claim into status before the conditions are computed; it reports
// whether the write must be locked.
func (p *pendingClaim) applyFirst(conn *v1.TableauConnection) bool {
	if p.next == nil || !p.always {
		return false
	}
	conn.Status.Claim = p.next
	return true
}

// applyRide puts a riding renewal into status when the write happens anyway (changed); it
// reports whether the write must be locked.
func (p *pendingClaim) applyRide(conn *v1.TableauConnection, changed bool) bool {
	if p.next == nil || p.always || !changed {
		return false
	}
	conn.Status.Claim = p.next
	return true
}

// liveStandingAside are the installs of c that stood aside within its duration: an install
// that stopped looking is forgotten once the claim would have lapsed for it too.
func liveStandingAside(c *v1.ClaimStatus, now time.Time) []v1.InstallSeen {
	var out []v1.InstallSeen
	for _, s := range c.StandingAside {
		if s.Install != c.Holder && now.Before(s.SeenTime.Add(time.Duration(c.DurationSeconds)*time.Second)) {
			out = append(out, s)
		}
	}
	return out
}

func (r *claimPhase) installID() string {
	if r.InstallID != "" {
		return r.InstallID
	}
	return DefaultInstallID
}

func (r *claimPhase) claimDuration() time.Duration {
	if r.ClaimDuration > 0 {
		return r.ClaimDuration
	}
	return DefaultClaimDuration
}

// claim is the first phase: it takes or renews this install's claim, or stands aside when
// another install holds a live one. A claim written is a status patch with the
// resourceVersion as precondition: of two installs that take an expired claim at once, one
// gets a conflict and reads again, and finds the other's claim. A first claim and a renewal
// with time to spare ride on the reconcile's status write (see the top of this file).
func (r *claimPhase) claim(ctx context.Context, s *scope) outcome {
	self, now := r.installID(), s.now
	c := s.conn.Status.Claim
	verdict, after := decideClaim(c, self, now)
	switch verdict {
	case claimHeld:
		s.requeueIn(after)
		return proceeded()
	case claimStandAside:
		return r.standAside(ctx, s, after)
	}
	d := r.claimDuration()
	s.requeueIn(d * 3 / 4)
	next := &v1.ClaimStatus{Holder: self, RenewTime: metav1.NewTime(now), DurationSeconds: int32(d / time.Second)}
	if c != nil {
		// Who stands aside stays said while it still looks (a takeover keeps the installs
		// that stood aside for the old holder: they stand aside for this one as well).
		next.StandingAside = slices.DeleteFunc(liveStandingAside(c, now), func(i v1.InstallSeen) bool { return i.Install == self })
	}
	takeover := verdict == claimTake && c != nil && c.Holder != "" && c.Holder != self
	switch {
	case verdict == claimRide:
		s.claim = pendingClaim{next: next}
		s.requeueIn(after)
		return proceeded()
	case verdict == claimTake && !takeover:
		s.claim = pendingClaim{next: next, always: true}
		return proceeded()
	}
	if err := r.writeClaim(ctx, s, next); err != nil {
		return failed(err)
	}
	if takeover {
		what := fmt.Sprintf("took the connection over from install %q, whose claim lapsed at %s", c.Holder, claimExpiry(c).UTC().Format(time.RFC3339))
		r.event(s.conn, false, "ClaimTakenOver", "Install "+quoteInstall(self)+" "+what+".")
	}
	return proceeded()
}

// claimedBeforeAdmin writes a first claim that is still pending before an administrator
// sign-in (automatic rotation's, the PAT expiry check's): such a sign-in ends every other
// session of that PAT, so it must never happen in two installs at once. A new connection's
// rollout has written status (locked, with the claim) before it gets here; this write is made
// only when nothing did.
func claimedBeforeAdmin(ctx context.Context, w *statusWriter, s *scope) error {
	if s.claim.next != nil && s.claim.always {
		return w.persistLocked(ctx, s)
	}
	return nil
}

// standAside records, at most once per half claim duration, that this install found
// another's live claim, and ends the reconcile: no Tableau call, no Secret write, no other
// status than the claim, the Claimed condition and Ready=Unknown (setReadyContested; the
// holder writes the rest: two installs computing it from different memories would only
// overwrite each other).
func (r *claimPhase) standAside(ctx context.Context, s *scope, after time.Duration) outcome {
	self, now := r.installID(), s.now
	c := s.conn.Status.Claim
	s.standingAside = true
	metrics.StoodAside.WithLabelValues("TableauConnection").Inc()
	seen := slices.IndexFunc(c.StandingAside, func(i v1.InstallSeen) bool { return i.Install == self })
	half := time.Duration(c.DurationSeconds) * time.Second / 2
	if seen < 0 || !now.Before(c.StandingAside[seen].SeenTime.Add(half)) {
		next := c.DeepCopy()
		next.StandingAside = append(slices.DeleteFunc(liveStandingAside(c, now), func(i v1.InstallSeen) bool { return i.Install == self }),
			v1.InstallSeen{Install: self, SeenTime: metav1.NewTime(now)})
		if n := len(next.StandingAside); n > maxStandingAside {
			next.StandingAside = next.StandingAside[n-maxStandingAside:]
		}
		if err := r.writeClaim(ctx, s, next); err != nil {
			return failed(err)
		}
		after = min(after, half)
	}
	return halted(after)
}

// maxStandingAside is status.claim.standingAside's MaxItems.
const maxStandingAside = 8

// writeClaim writes next as status.claim, with the Claimed condition it implies, under the
// connection's resourceVersion: nothing else of status changes here (the claim phase runs
// first), so the claim costs this one write.
func (r *claimPhase) writeClaim(ctx context.Context, s *scope, next *v1.ClaimStatus) error {
	s.conn.Status.Claim = next
	set := conditionSetter(&s.conn.Status.Conditions, s.conn.Generation)
	setClaimed(s.conn, s.now, set)
	setReadyContested(s.conn, s.now, set)
	if err := r.patchStatus(ctx, s.before, s.conn, true); err != nil {
		s.conn.Status = *s.before.Status.DeepCopy()
		return fmt.Errorf("writing the claim of install %s: %w", quoteInstall(r.installID()), err)
	}
	s.before = s.conn.DeepCopy()
	return nil
}

func quoteInstall(id string) string { return fmt.Sprintf("%q", id) }

// setClaimed reports status.claim. It reads status.claim alone, never which install computes
// it, so the holder and an install standing aside compute the same condition and never
// overwrite each other's.
func setClaimed(conn *v1.TableauConnection, now time.Time, set setCondition) {
	c := conn.Status.Claim
	if c == nil || c.Holder == "" {
		removeCondition(&conn.Status.Conditions, v1.ConditionClaimed)
		return
	}
	if !claimLive(c, now) {
		set(v1.ConditionClaimed, metav1.ConditionUnknown, v1.ReasonClaimExpired,
			fmt.Sprintf("Install %s has not renewed its claim since %s: it stopped, or lost its access; the next install to reconcile this connection takes it over.",
				quoteInstall(c.Holder), c.RenewTime.UTC().Format(time.RFC3339)))
		return
	}
	if aside := liveStandingAside(c, now); len(aside) > 0 {
		names := make([]string, 0, len(aside))
		for _, a := range aside {
			names = append(names, quoteInstall(a.Install))
		}
		set(v1.ConditionClaimed, metav1.ConditionFalse, v1.ReasonClaimedByAnotherInstall,
			fmt.Sprintf("Install %s acts on this connection; install %s watches it too and stands aside (no Tableau call, no Secret write). Give each install its own namespaces with --watch-namespaces, or uninstall one.",
				quoteInstall(c.Holder), strings.Join(names, ", ")))
		return
	}
	set(v1.ConditionClaimed, metav1.ConditionTrue, v1.ReasonClaimed,
		fmt.Sprintf("Install %s acts on this connection; another install that watches it stands aside.", quoteInstall(c.Holder)))
}

// setReadyContested makes Ready Unknown while an install stands aside for the holder's live
// claim: two installs watch the connection, which is a mistake to mend (one acts; the
// other's Tableau calls would end the holder's sessions), and what the object reports must
// say so where Argo CD, Flux and kubectl wait look. Like setClaimed it reads status.claim and
// the clock alone: the holder (after setReady) and the install standing aside compute the
// same Ready, and never overwrite each other's. SignedIn and ConsumersReady keep what the
// holder observed.
func setReadyContested(conn *v1.TableauConnection, now time.Time, set setCondition) {
	c := conn.Status.Claim
	if !claimLive(c, now) {
		return
	}
	aside := liveStandingAside(c, now)
	if len(aside) == 0 {
		return
	}
	names := make([]string, 0, len(aside))
	for _, a := range aside {
		names = append(names, quoteInstall(a.Install))
	}
	set(v1.ConditionReady, metav1.ConditionUnknown, v1.ReasonClaimedByAnotherInstall,
		fmt.Sprintf("Two installs watch this connection: install %s acts on it, install %s stands aside. Ready stays Unknown until only one watches it (give each install its own namespaces with --watch-namespaces, or uninstall one); SignedIn and ConsumersReady say what the acting install observed.",
			quoteInstall(c.Holder), strings.Join(names, ", ")))
}

// fleetClaimedElsewhere names the install that holds a live claim on the first of the fleet's
// members (by name) when it is not self, else "". A fleet has no claim of its own: it is
// acted on by the install that acts on its members, which every install computes alike.
func fleetClaimedElsewhere(members []*v1.TableauConnection, self string, now time.Time) string {
	first := ""
	holder := ""
	for _, m := range members {
		if c := m.Status.Claim; claimLive(c, now) && (first == "" || m.Name < first) {
			first, holder = m.Name, c.Holder
		}
	}
	if holder == self {
		return ""
	}
	return holder
}
