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

package kubectlplugin

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

func newStatusCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "status CONNECTION|fleet/NAME",
		Short: summary("status"),
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := parseTarget(args[0])
			if err != nil {
				return err
			}
			if err := e.connect(); err != nil {
				return err
			}
			p := palette{on: e.streams.TTY}
			if t.fleet {
				v, err := loadFleet(cmd.Context(), e.k8s, e.ns, t.name)
				if err != nil {
					return err
				}
				renderFleet(e.streams.Out, v, e.now(), p)
				return nil
			}
			v, err := loadConnection(cmd.Context(), e.k8s, e.ns, t.name)
			if err != nil {
				return err
			}
			renderConnection(e.streams.Out, v, e.now(), p)
			return nil
		},
	}
}

// connectionView is everything status shows about one connection.
type connectionView struct {
	conn *v1.TableauConnection
	// consumer is the consumer Secret's metadata (never its data); nil when it does not exist.
	consumer *metav1.PartialObjectMetadata
	// consumerForbidden: the user may not get the consumer Secret (even its metadata).
	consumerForbidden bool
	// fleets select the connection (more than one is a conflict the operator reports).
	fleets []v1.TableauFleet
}

func getConnection(ctx context.Context, c client.Client, ns, name string) (*v1.TableauConnection, error) {
	var conn v1.TableauConnection
	if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &conn); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, failed("TableauConnection %s/%s not found", ns, name)
		}
		return nil, apiError("reading TableauConnection "+ns+"/"+name, err)
	}
	return &conn, nil
}

func loadConnection(ctx context.Context, c client.Client, ns, name string) (connectionView, error) {
	conn, err := getConnection(ctx, c, ns, name)
	if err != nil {
		return connectionView{}, err
	}
	v := connectionView{conn: conn}
	if cs := conn.Spec.Consumers; cs != nil {
		// Metadata only: the plugin never fetches a credential.
		m := &metav1.PartialObjectMetadata{}
		m.SetGroupVersionKind(schemeGVK("Secret"))
		err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: cs.SecretName}, m)
		switch {
		case err == nil:
			v.consumer = m
		case apierrors.IsForbidden(err):
			v.consumerForbidden = true
		case !apierrors.IsNotFound(err):
			return v, apiError("reading the consumer Secret's metadata", err)
		}
	}
	var fleets v1.TableauFleetList
	if err := c.List(ctx, &fleets, client.InNamespace(ns)); err != nil {
		return v, apiError("listing TableauFleets", err)
	}
	for _, f := range fleets.Items {
		if selects(&f, conn) {
			v.fleets = append(v.fleets, f)
		}
	}
	return v, nil
}

// selects mirrors the fleet controller: an invalid selector selects nothing.
func selects(f *v1.TableauFleet, conn metav1.Object) bool {
	sel, err := metav1.LabelSelectorAsSelector(&f.Spec.Selector)
	return err == nil && sel.Matches(labels.Set(conn.GetLabels()))
}

func renderConnection(w io.Writer, v connectionView, now time.Time, p palette) {
	v = v.printable()
	conn := v.conn
	st := conn.Status
	fmt.Fprintf(w, "%s %s/%s\n", p.bold("TableauConnection"), conn.Namespace, conn.Name)
	fmt.Fprintf(w, "  Server:      %s  site %q  REST API %s", conn.Spec.Server, conn.Spec.Site, conn.Spec.APIVersion)
	if st.Server != nil && st.Server.RESTAPIVersion != "" {
		fmt.Fprintf(w, " (server offers %s, Tableau %s)", st.Server.RESTAPIVersion, st.Server.ProductVersion)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  Credential:  %s\n", credentialLine(conn))
	if line := suspendedLine(conn); line != "" {
		fmt.Fprintf(w, "  %s\n", p.warn(line))
	}
	if st.ObservedGeneration != conn.Generation {
		fmt.Fprintf(w, "  %s\n", p.warn(fmt.Sprintf("The operator has not seen generation %d yet (status is for %d).", conn.Generation, st.ObservedGeneration)))
	}

	fmt.Fprintln(w, p.bold("Conditions"))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range orderedConditions(st.Conditions) {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", c.Type, p.status(c.Type, c.Status), c.Reason, ago(c.LastTransitionTime.Time, now), truncate(whatOf(c.Message), 160))
	}
	if len(st.Conditions) == 0 {
		fmt.Fprintln(tw, "  (none yet: the operator has not reconciled this connection)")
	}
	_ = tw.Flush()

	if f := st.LastFailure; f != nil {
		fmt.Fprintln(w, p.bold("Failure"))
		fmt.Fprintf(w, "  Bucket:      %s (%s, stage %s)\n", p.bad(f.Bucket), f.Reason, f.Stage)
		var tab []string
		if f.HTTPStatus != 0 {
			tab = append(tab, fmt.Sprintf("HTTP %d", f.HTTPStatus))
		}
		if f.TableauCode != "" {
			tab = append(tab, "Tableau code "+f.TableauCode)
		}
		if f.RequestID != "" {
			tab = append(tab, "request id "+f.RequestID)
		}
		if f.Endpoint != "" {
			tab = append(tab, f.Endpoint)
		}
		if len(tab) > 0 {
			fmt.Fprintf(w, "  Tableau:     %s\n", strings.Join(tab, ", "))
		}
		fmt.Fprintf(w, "  Since:       %s, %d in a row (last %s)\n", stamp(f.Since.Time, now), f.ConsecutiveFailures, ago(f.Time.Time, now))
		if f.Message != "" {
			fmt.Fprintf(w, "  Message:     %s\n", truncate(f.Message, 240))
		}
		if f.NextAttemptTime != nil {
			fmt.Fprintf(w, "  Next try:    %s\n", stamp(f.NextAttemptTime.Time, now))
		}
	}
	fmt.Fprintf(w, "%s %s\n", p.bold("Next step:"), nextStep(v))

	if cs := conn.Spec.Consumers; cs != nil {
		fmt.Fprintln(w, p.bold("Consumer Secret"))
		fmt.Fprintf(w, "  %s\n", consumerLine(v, now, p))
	}
	if rs := st.Rotation; rs != nil {
		fmt.Fprintln(w, p.bold("Rotation"))
		fmt.Fprintf(w, "  Phase:       %s for %s", rotationPhase(rs.Phase, p), duration.HumanDuration(nonNegative(now.Sub(rs.PhaseSince.Time))))
		if rs.Reason != "" {
			fmt.Fprintf(w, " (%s)", rs.Reason)
		}
		fmt.Fprintln(w)
		if rs.Message != "" {
			fmt.Fprintf(w, "  Message:     %s\n", truncate(rs.Message, 240))
		}
		if rs.CandidateRevision != "" {
			fmt.Fprintf(w, "  Candidate:   revision %s\n", rs.CandidateRevision)
		}
		if rs.FailedRevision != "" {
			label, line := failedRotationLine(conn)
			fmt.Fprintf(w, "  %-13s%s\n", label+":", truncate(line, 480))
		}
		if rs.LastCompletionTime != nil {
			fmt.Fprintf(w, "  Last done:   %s\n", stamp(rs.LastCompletionTime.Time, now))
		}
		if rs.DueTime != nil {
			fmt.Fprintf(w, "  Due:         %s\n", stamp(rs.DueTime.Time, now))
		}
		if a := rs.Automatic; a != nil {
			fmt.Fprintf(w, "  Automatic:   %s", orDash(a.Phase))
			if a.NewSecretID != "" {
				fmt.Fprintf(w, ", new secret %s", a.NewSecretID)
			}
			if a.RetiringSecretID != "" {
				fmt.Fprintf(w, ", retiring secret %s", a.RetiringSecretID)
			}
			if a.ConsecutiveFailures > 0 {
				fmt.Fprintf(w, ", %d failures in a row", a.ConsecutiveFailures)
			}
			fmt.Fprintln(w)
			if a.Message != "" {
				fmt.Fprintf(w, "               %s\n", truncate(a.Message, 240))
			}
		}
	}
	for i := range v.fleets {
		f := &v.fleets[i]
		fmt.Fprintln(w, p.bold("Fleet"))
		fmt.Fprintf(w, "  %s\n", memberLine(f, conn.Name, p))
	}
	line, _ := expiryOf(conn, now)
	fmt.Fprintf(w, "%s %s\n", p.bold("Expiry:"), truncate(line, 320))
	renderAttempts(w, st.History, now, 5)
}

func credentialLine(conn *v1.TableauConnection) string {
	c := conn.Status.Credentials
	var who string
	switch {
	case conn.Spec.Auth.ConnectedApp != nil:
		who = fmt.Sprintf("connected app (Secret %s, user %s)", conn.Spec.Auth.ConnectedApp.SecretRef.Name, conn.Spec.Auth.ConnectedApp.Username)
		if c != nil && c.ClientID != "" {
			who += fmt.Sprintf(", client %s, secret id %s", c.ClientID, c.SecretID)
		}
	case conn.Spec.Auth.PersonalAccessToken != nil:
		who = "PAT (Secret " + conn.Spec.Auth.PersonalAccessToken.SecretRef.Name + ")"
		if c != nil && c.TokenName != "" {
			who = fmt.Sprintf("PAT %q (Secret %s)", c.TokenName, conn.Spec.Auth.PersonalAccessToken.SecretRef.Name)
		}
	}
	if c != nil && c.Revision != "" {
		who += ", revision " + c.Revision
	}
	return who
}

// orderedConditions puts Ready first, then the rest in the order the operator documents.
func orderedConditions(cs []metav1.Condition) []metav1.Condition {
	order := []string{v1.ConditionReady, v1.ConditionReconciling, v1.ConditionStalled, v1.ConditionSignedIn, v1.ConditionAPIVersionSupported,
		v1.ConditionConsumersReady, v1.ConditionCandidateValid, v1.ConditionRotationDue, v1.ConditionAutomaticRotation}
	rank := func(t string) int {
		for i, o := range order {
			if o == t {
				return i
			}
		}
		return len(order)
	}
	out := append([]metav1.Condition(nil), cs...)
	sort.SliceStable(out, func(i, j int) bool { return rank(out[i].Type) < rank(out[j].Type) })
	return out
}

// nextStep is what a person should do now, from what the operator recorded.
func nextStep(v connectionView) string {
	conn := v.conn
	st := conn.Status
	switch {
	case conn.Spec.Suspend:
		return "none while suspended; `kubectl tableau unsuspend " + conn.Name + "` resumes validation."
	case st.LastFailure != nil && st.LastFailure.NextStep != "":
		return st.LastFailure.NextStep
	case rolledBackForHealth(st.Rotation):
		// The controller's CandidateValid message asks for a new credential; this one signed
		// in, it is the workload that did not come up with it.
		return fmt.Sprintf("find why %s did not become available with revision %s (its pods' events and logs), fix it, then `kubectl tableau rotate %s` tries the revision again.",
			targetsOf(conn), st.Rotation.FailedRevision, conn.Name)
	}
	for _, t := range []string{v1.ConditionCandidateValid, v1.ConditionConsumersReady, v1.ConditionAutomaticRotation, v1.ConditionRotationDue} {
		for _, c := range st.Conditions {
			bad := c.Status == metav1.ConditionFalse
			if t == v1.ConditionRotationDue {
				bad = c.Status == metav1.ConditionTrue
			}
			if c.Type == t && bad && c.Message != "" {
				return stepOf(c.Message)
			}
		}
	}
	for i := range v.fleets {
		if fleetHalted(&v.fleets[i]) {
			return fmt.Sprintf("fleet %s is halted; fix its failed members or `kubectl tableau resume fleet/%s`.", v.fleets[i].Name, v.fleets[i].Name)
		}
	}
	for _, c := range st.Conditions {
		if c.Type == v1.ConditionReady && c.Status == metav1.ConditionTrue {
			return "nothing: sign-in works."
		}
	}
	return "wait: the operator is still validating."
}

func consumerLine(v connectionView, now time.Time, p palette) string {
	name := v.conn.Spec.Consumers.SecretName
	m := v.consumer
	if v.consumerForbidden {
		return fmt.Sprintf("%s: %s", name, p.warn("not shown: you may not get Secrets in this namespace (the plugin reads only their metadata)"))
	}
	if m == nil {
		return fmt.Sprintf("%s: %s", name, p.bad("does not exist"))
	}
	ours := m.Labels[v1.LabelCredential] == v1.CredentialManaged && m.Annotations[v1.AnnotationConnectionUID] == string(v.conn.UID)
	owner := p.good("ours")
	if !ours {
		owner = p.bad("not the operator's (it writes no Secret it did not create)")
	}
	line := fmt.Sprintf("%s: exists, %s", name, owner)
	if rev := m.Annotations[v1.AnnotationRevision]; rev != "" {
		line += ", revision " + rev
	}
	since := m.CreationTimestamp.Time
	if rs := v.conn.Status.Rotation; rs != nil && rs.ActiveSince != nil {
		since = rs.ActiveSince.Time
	}
	return line + ", since " + stamp(since, now)
}

func memberLine(f *v1.TableauFleet, member string, p palette) string {
	st := f.Status
	line := fmt.Sprintf("%s: %d members, %d ready, %d rotating, %d pending", f.Name, st.Members, st.Ready, st.Rotating, st.Pending)
	if len(st.Current) > 0 {
		line += ", current " + strings.Join(st.Current, ", ")
	}
	if fleetHalted(f) {
		line += ", " + p.bad("halted at "+strings.Join(blockingOf(f), ", "))
	}
	switch {
	case contains(st.Suspended, member):
		line += "; " + member + " is suspended and holds no place in the wave"
	case contains(st.Current, member):
		line += "; " + member + " may promote now"
	case contains(st.Failed, member) && contains(st.Acknowledged, member):
		line += "; " + member + " failed and a resume let the wave pass it"
	case contains(st.Failed, member):
		line += "; " + member + " failed"
	}
	return line
}

// expiryOf says when the credential consumers use expires, as far as status records it, and
// returns that time for the report (nil when status does not record it). status.credentials
// describes the source's credential: while a new one is validated, staged or failing, that is
// not the active one, and its expiry (or its absence) is not the active credential's.
func expiryOf(conn *v1.TableauConnection, now time.Time) (string, *time.Time) {
	c := conn.Status.Credentials
	rs := conn.Status.Rotation
	if conn.Spec.Auth.ConnectedApp != nil {
		// A connected app's secrets have no expiry: whatever expiresAt holds is not one.
		if conn.Spec.Rotation.Automatic != nil && rs != nil && rs.DueTime != nil {
			return "none: connected-app secrets do not expire; the operator replaces this one " + stamp(rs.DueTime.Time, now) + ".", nil
		}
		return "none: connected-app secrets do not expire.", nil
	}
	if c == nil || c.Revision == "" {
		return "unknown until a sign-in succeeds.", nil
	}
	active := ""
	if rs != nil && conn.Spec.Consumers != nil {
		active = rs.ActiveRevision
	}
	if active != "" && c.Revision != active {
		// status.credentials is the source's credential; the active one's expiry is kept in
		// status.rotation.activeExpiresAt from its own sign-ins.
		line := fmt.Sprintf("not recorded for the active PAT (revision %s) while the source holds revision %s", active, c.Revision)
		var at *time.Time
		if rs.ActiveExpiresAt != nil {
			t := rs.ActiveExpiresAt.UTC()
			at = &t
			line = fmt.Sprintf("PAT expires %s (the active revision %s; the source holds revision %s", stamp(t, now), active, c.Revision)
		}
		switch {
		case c.ExpiresAt != nil:
			line += "; revision " + c.Revision + " expires " + stamp(c.ExpiresAt.Time, now)
		case signInFailed(c):
			line += "; revision " + c.Revision + " has not signed in"
		}
		if at != nil {
			line += ")"
		}
		return line + ".", at
	}
	switch {
	case c.ExpiresAt != nil:
		at := c.ExpiresAt.UTC()
		return "PAT expires " + stamp(at, now) + ".", &at
	case c.LastSignInTime == nil || signInFailed(c):
		return "unknown until a sign-in succeeds.", nil
	default:
		return "unknown: Tableau sent none at the last sign-in (validation.adminSecretRef reads it on Tableau Cloud).", nil
	}
}

// signInFailed: the last sign-in attempt was of the source's revision and failed.
func signInFailed(c *v1.CredentialStatus) bool {
	return c.LastAttemptRevision == c.Revision && c.LastAttemptResult == v1.ResultFailed
}

// rolledBackForHealth: the last rotation was rolled back because the restarted workload did
// not become available in time (the health gate), not because Tableau refused the credential.
func rolledBackForHealth(rs *v1.RotationStatus) bool {
	return rs != nil && rs.Phase == v1.RotationFailed && rs.FailedRevision != "" &&
		(rs.Reason == v1.ReasonRotationRolledBack || rs.Reason == v1.ReasonGateTimedOut)
}

// failedRotationLine names why the failed revision is not in use, from rotation.reason: the
// workload's health (a rollback after the health gate timed out) or the credential itself.
func failedRotationLine(conn *v1.TableauConnection) (label, line string) {
	rs := conn.Status.Rotation
	active := "the active one"
	if rs.ActiveRevision != "" {
		active = "revision " + rs.ActiveRevision
	}
	switch {
	case rolledBackForHealth(rs):
		return "Rolled back", fmt.Sprintf("revision %s signed in, but %s did not become available with it before the health check timed out; consumers are back on %s. `kubectl tableau rotate %s` tries it again.",
			rs.FailedRevision, targetsOf(conn), active, conn.Name)
	case rs.Reason == v1.ReasonCandidateRejected || rs.Reason == v1.ReasonRotationRejected:
		return "Rejected", fmt.Sprintf("revision %s: Tableau refused its sign-in; consumers keep %s. `kubectl tableau rotate %s` retries it.", rs.FailedRevision, active, conn.Name)
	}
	return "Rejected", fmt.Sprintf("revision %s (%s); consumers keep %s. `kubectl tableau rotate %s` retries it.", rs.FailedRevision, orDash(rs.Reason), active, conn.Name)
}

// targetsOf names the restart targets (the workload whose health the gate waits for).
func targetsOf(conn *v1.TableauConnection) string {
	var names []string
	if cs := conn.Spec.Consumers; cs != nil {
		for _, t := range cs.RestartTargets {
			names = append(names, t.Kind+" "+t.Name)
		}
	}
	if len(names) == 0 {
		return "the restarted workload"
	}
	return truncate(strings.Join(names, ", "), 240)
}

// stepOf is the next step a condition message names after "Next step:" (the operator writes
// "what happened. Next step: what to do"), or the whole message when it names none, so the
// plugin's own "Next step:" label is never printed twice.
func stepOf(msg string) string {
	const marker = "Next step:"
	if i := strings.LastIndex(msg, marker); i >= 0 {
		if step := strings.TrimSpace(msg[i+len(marker):]); step != "" {
			return step
		}
		return strings.TrimSpace(msg[:i])
	}
	return msg
}

// whatOf is what a condition message says happened, without the next step it names: status
// prints one "Next step:" line of its own (stepOf), and a next step repeated in the table
// printed the label twice, or contradicted that line.
func whatOf(msg string) string {
	if i := strings.Index(msg, "Next step:"); i > 0 {
		return strings.TrimSpace(msg[:i])
	}
	return msg
}

// suspendedLine says the connection is suspended, from spec.suspend and from what the
// operator recorded: spec.suspend may be set before the operator has seen it, or cleared while
// status still says Suspended.
func suspendedLine(conn *v1.TableauConnection) string {
	recorded := false
	for _, c := range conn.Status.Conditions {
		if c.Type == v1.ConditionReady && c.Reason == v1.ReasonSuspended {
			recorded = true
		}
	}
	switch {
	case conn.Spec.Suspend && recorded:
		return "Suspended: the operator makes no Tableau call and writes nothing for this connection (kubectl tableau unsuspend " + conn.Name + ")."
	case conn.Spec.Suspend:
		return "Suspended: spec.suspend is true; the operator has not acted on it yet, and makes no Tableau call once it has (kubectl tableau unsuspend " + conn.Name + ")."
	case recorded:
		return "Unsuspended: spec.suspend is false, but the status below is still the suspended one until the operator validates again."
	}
	return ""
}

func renderAttempts(w io.Writer, history []v1.ValidationAttempt, now time.Time, n int) {
	fmt.Fprintf(w, "Last attempts (%d recorded):\n", len(history))
	if len(history) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  TIME\tKIND\tRESULT\tBUCKET\tREASON\tHTTP\tCODE\tREQUEST ID\tREVISION\tLATENCY")
	for i, a := range history {
		if i == n {
			break
		}
		kind := a.Kind
		if kind == "" {
			kind = v1.AttemptSignIn // recorded before attempts had kinds
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%dms\n", stamp(a.Time.Time, now), kind, a.Result, orDash(a.Bucket), orDash(a.Reason),
			orDash(httpStatus(a.HTTPStatus)), orDash(a.TableauCode), orDash(a.RequestID), orDash(a.Revision), a.LatencyMs)
	}
	_ = tw.Flush()
}

func readyOf(c *v1.TableauConnection) (string, string) {
	for _, cond := range c.Status.Conditions {
		if cond.Type == v1.ConditionReady {
			return string(cond.Status), cond.Reason
		}
	}
	return "Unknown", ""
}

func rotationPhase(phase string, p palette) string {
	switch phase {
	case v1.RotationFailed, v1.RotationRollingBack:
		return p.bad(phase)
	case v1.RotationIdle, "-", "":
		return phase
	default:
		return p.warn(phase)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
