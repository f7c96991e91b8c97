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
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

func newRotateCmd(e *env) *cobra.Command {
	var noWait bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "rotate CONNECTION",
		Short: summary("rotate"),
		Long: summary("rotate") + `.

It sets the tableau-operator.dev/requested-at annotation to the current time. The operator then
signs in again (with a PAT this ends the PAT's other sessions, as any sign-in does) and retries a
rotation it had rejected. rotate waits until the operator has answered and any rotation it started
has settled, printing a progress line, and exits 0 when the connection is Ready and no new
credential in the source failed, 1 when not.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := parseTarget(args[0])
			if err != nil {
				return err
			}
			if t.fleet {
				return fmt.Errorf("rotate takes a TableauConnection; a fleet rotates its members as their sources change")
			}
			if timeout <= 0 {
				return fmt.Errorf("--timeout must be positive, got %s", timeout)
			}
			if err := e.connect(); err != nil {
				return err
			}
			return rotate(cmd.Context(), e, t.name, noWait, timeout)
		},
	}
	cmd.Flags().BoolVar(&noWait, "no-wait", false, "return as soon as the request is recorded")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Minute, "how long to wait for the result")
	return cmd
}

// requestValue is the annotation's value: the time in RFC 3339, which the operator compares
// with status.lastHandledRequest (it acts on any value it has not handled). Two requests in
// the same second must still differ, so a collision gets the nanoseconds.
func requestValue(now time.Time, current, handled string) string {
	v := now.UTC().Format(time.RFC3339)
	if v == current || v == handled {
		v = now.UTC().Format(time.RFC3339Nano)
	}
	return v
}

func rotate(ctx context.Context, e *env, name string, noWait bool, timeout time.Duration) error {
	conn, err := getConnection(ctx, e.k8s, e.ns, name)
	if err != nil {
		return err
	}
	if conn.Spec.Suspend {
		return failed("TableauConnection %s/%s is suspended: the operator makes no Tableau call; `kubectl tableau unsuspend %s` first", e.ns, name, name)
	}
	start := e.now()
	value := requestValue(start, conn.Annotations[v1.AnnotationRequestedAt], conn.Status.LastHandledRequest)
	var handledAt time.Time
	return e.annotateAndWait(ctx, request{
		obj:       conn,
		what:      "TableauConnection " + e.ns + "/" + name,
		key:       v1.AnnotationRequestedAt,
		value:     value,
		requested: fmt.Sprintf("Requested: %s=%s on %s/%s\n", v1.AnnotationRequestedAt, value, e.ns, name),
		noWait:    noWait,
		timeout:   timeout,
		timedOut:  failed("no result within %s; the request stays recorded (kubectl tableau status %s)", timeout, name),
		poll: func(ctx context.Context) (string, bool, error) {
			if conn, err = getConnection(ctx, e.k8s, e.ns, name); err != nil {
				return "", false, err
			}
			if conn.Status.LastHandledRequest == value && handledAt.IsZero() {
				handledAt = e.now()
			}
			waiting := false
			if rs := conn.Status.Rotation; rs != nil && rs.Phase == v1.RotationStaged {
				if waiting, err = waitingForTurn(ctx, e, conn); err != nil {
					return "", false, err
				}
			}
			state := settled(conn, value, start, handledAt, e.now(), waiting)
			return progressLine(conn, value, e.now().Sub(start)), state, nil
		},
		answer: func() error { return result(e, conn) },
	})
}

// settled reports whether the operator answered the request: it handled this value, it has
// seen the current generation, it recorded an attempt (or a failure) since the request, and no
// rotation is under way. A request that leads to no Tableau call (the version check fails
// first) has no attempt to wait for: ten seconds after it was handled its state is the answer.
func settled(conn *v1.TableauConnection, value string, start, handledAt, now time.Time, waitingForTurn bool) bool {
	st := conn.Status
	if st.LastHandledRequest != value || st.ObservedGeneration != conn.Generation {
		return false
	}
	if rs := st.Rotation; rs != nil {
		switch rs.Phase {
		case v1.RotationIdle, v1.RotationFailed, "":
		case v1.RotationStaged:
			if !waitingForTurn {
				return false
			}
		default:
			return false
		}
	}
	since := start.Truncate(time.Second)
	answered := false
	if len(st.History) > 0 && !st.History[0].Time.Time.Before(since) {
		answered = true
	}
	if f := st.LastFailure; f != nil && !f.Time.Time.Before(since) {
		answered = true
	}
	if !answered && !handledAt.IsZero() && now.Sub(handledAt) > 10*time.Second {
		answered = true
	}
	return answered
}

// waitingForTurn: a staged candidate whose fleet has not admitted it (or that two fleets
// select) waits for the wave, which may take long; rotate reports that instead of waiting.
func waitingForTurn(ctx context.Context, e *env, conn *v1.TableauConnection) (bool, error) {
	var fleets v1.TableauFleetList
	if err := e.k8s.List(ctx, &fleets, client.InNamespace(conn.Namespace)); err != nil {
		return false, apiError("listing TableauFleets", err)
	}
	var selecting []v1.TableauFleet
	for _, f := range fleets.Items {
		if selects(&f, conn) {
			selecting = append(selecting, f)
		}
	}
	switch len(selecting) {
	case 0:
		return false, nil
	case 1:
		return !contains(selecting[0].Status.Current, conn.Name), nil
	}
	return true, nil
}

func progressLine(conn *v1.TableauConnection, value string, waited time.Duration) string {
	st := conn.Status
	stage := "waiting for the operator to pick up the request"
	if st.LastHandledRequest == value {
		stage = "validating"
		if rs := st.Rotation; rs != nil && rs.Phase != "" && rs.Phase != v1.RotationIdle {
			stage = "rotation " + rs.Phase
		}
	}
	ready, reason := readyOf(conn)
	return fmt.Sprintf("%s/%s: %s (Ready=%s %s) %ds", conn.Namespace, conn.Name, stage, ready, reason, int(waited.Seconds()))
}

// result prints the outcome and turns it into the exit code: Ready=True with no failing new
// credential is success.
func result(e *env, conn *v1.TableauConnection) error {
	ready, reason := readyOf(conn)
	msg := ""
	for _, c := range conn.Status.Conditions {
		if c.Type == v1.ConditionReady {
			msg = c.Message
		}
	}
	out := e.streams.Out
	p := palette{on: e.streams.TTY}
	if ready == string(metav1.ConditionTrue) {
		if why, detail, failing := candidateFailing(conn); failing {
			// Consumers still sign in with the active credential, but what rotate asked
			// for (validate the source's new credential, retry its rotation) failed.
			fmt.Fprintf(out, "%s %s: %s\n", p.good("Ready"), reason, truncate(msg, 240))
			fmt.Fprintf(out, "%s %s: %s\n", p.bad("New credential not used"), why, truncate(detail, 240))
			return failed("%s/%s: the new credential in the source failed (%s); consumers keep the active one", conn.Namespace, conn.Name, why)
		}
		fmt.Fprintf(out, "%s %s: %s\n", p.good("Ready"), reason, truncate(msg, 240))
		if rs := conn.Status.Rotation; rs != nil && rs.Phase == v1.RotationStaged {
			fmt.Fprintf(out, "The new credential is staged and waits for its turn in the fleet.\n")
		}
		return nil
	}
	fmt.Fprintf(out, "%s %s: %s\n", p.bad("Not ready"), reason, truncate(msg, 240))
	if f := conn.Status.LastFailure; f != nil {
		fmt.Fprintf(out, "Bucket %s, Tableau code %s, request id %s\n", f.Bucket, orDash(f.TableauCode), orDash(f.RequestID))
	}
	return failed("%s/%s is not Ready (%s)", conn.Namespace, conn.Name, reason)
}

// candidateFailing reports a new credential in the source that failed while consumers keep
// the active one: the connection stays Ready, CandidateValid says why (False when rejected,
// Unknown while it fails at the backoff's pace), and lastFailure holds the attempt.
func candidateFailing(conn *v1.TableauConnection) (reason, message string, failing bool) {
	var cv *metav1.Condition
	for i := range conn.Status.Conditions {
		if conn.Status.Conditions[i].Type == v1.ConditionCandidateValid {
			cv = &conn.Status.Conditions[i]
		}
	}
	f := conn.Status.LastFailure
	switch {
	case cv != nil && cv.Status == metav1.ConditionFalse:
		return cv.Reason, cv.Message, true
	case f != nil && cv != nil:
		return f.Reason, cv.Message, true
	case f != nil:
		return f.Reason, f.Message, true
	}
	return "", "", false
}
