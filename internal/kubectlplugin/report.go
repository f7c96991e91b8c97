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
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

func newReportCmd(e *env) *cobra.Command {
	var allNamespaces bool
	var since time.Duration
	var output string
	cmd := &cobra.Command{
		Use:   "report [-A] [--since 168h] [-o table|csv|json]",
		Short: summary("report"),
		Long: summary("report") + `.

Without --since it prints one row per TableauConnection. With --since it also prints what the
connections' status recorded in that window: each attempt of status.history (the last 10 per
connection: a sign-in Tableau saw, including the one right before a promotion, is a signin row;
a serverinfo failure a serverinfo row and an unreadable credential a credentials row, for no
sign-in was made), completed, failed and rolled-back rotations (a first delivery of a credential
is not a rotation), and current failures. As CSV the kinds share one header and the first
column, record, says which a row is (connection, signin, serverinfo, credentials, rotation,
failure), so a log pipeline reads a single table.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "table" && output != "csv" && output != "json" {
				return fmt.Errorf("-o must be table, csv or json, got %q", output)
			}
			if since < 0 {
				return fmt.Errorf("--since must not be negative, got %s", since)
			}
			if err := e.connect(); err != nil {
				return err
			}
			ns := e.ns
			if allNamespaces {
				ns = ""
			}
			rep, err := loadReport(cmd.Context(), e.k8s, ns, e.now(), since)
			if err != nil {
				return err
			}
			switch output {
			case "csv":
				return writeCSV(e.streams.Out, rep)
			case "json":
				enc := json.NewEncoder(e.streams.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			writeTable(e.streams.Out, rep, allNamespaces)
			return nil
		},
	}
	cmd.Flags().BoolVarP(&allNamespaces, "all-namespaces", "A", false, "report the connections of every namespace")
	cmd.Flags().DurationVar(&since, "since", 0, "also list the attempts and rotations recorded in this window, e.g. 168h")
	cmd.Flags().StringVarP(&output, "output", "o", "table", "table, csv or json")
	return cmd
}

// report is what `report` prints; its JSON is the -o json output.
type report struct {
	GeneratedAt time.Time       `json:"generatedAt"`
	Since       *time.Time      `json:"since,omitempty"`
	Connections []connectionRow `json:"connections"`
	Events      []eventRow      `json:"events,omitempty"`
}

// connectionRow is one tenant's state now.
type connectionRow struct {
	Namespace           string     `json:"namespace"`
	Name                string     `json:"name"`
	Fleet               string     `json:"fleet,omitempty"`
	Server              string     `json:"server"`
	Site                string     `json:"site"`
	APIVersion          string     `json:"apiVersion"`
	Ready               string     `json:"ready"`
	Bucket              string     `json:"bucket,omitempty"`
	Reason              string     `json:"reason,omitempty"`
	LastSignIn          *time.Time `json:"lastSignIn,omitempty"`
	Expiry              *time.Time `json:"expiry,omitempty"`
	RotationPhase       string     `json:"rotationPhase,omitempty"`
	LastRotation        *time.Time `json:"lastRotation,omitempty"`
	Due                 *time.Time `json:"due,omitempty"`
	ConsecutiveFailures int32      `json:"consecutiveFailures"`
	LastRequestID       string     `json:"lastRequestID,omitempty"`
}

// eventRow is one thing the status of a connection recorded at a time.
type eventRow struct {
	Time      time.Time `json:"time"`
	Namespace string    `json:"namespace"`
	Name      string    `json:"name"`
	Record    string    `json:"record"`
	// Kind is a history attempt's kind (SignIn, CandidateCheck, ServerInfo, Credentials).
	Kind        string `json:"kind,omitempty"`
	Result      string `json:"result"`
	Bucket      string `json:"bucket,omitempty"`
	Reason      string `json:"reason,omitempty"`
	HTTPStatus  int32  `json:"httpStatus,omitempty"`
	TableauCode string `json:"tableauCode,omitempty"`
	RequestID   string `json:"requestID,omitempty"`
	Revision    string `json:"revision,omitempty"`
	Detail      string `json:"detail,omitempty"`
}

// Record kinds of the report's rows.
const (
	recordConnection = "connection"
	recordSignIn     = "signin"
	recordRotation   = "rotation"
	recordFailure    = "failure"
	// recordServerInfo and recordCredentials are attempts that stopped before a sign-in
	// (serverinfo failed or the pin is above the server; the credential could not be read):
	// Tableau saw no sign-in, so they are never signin rows.
	recordServerInfo  = "serverinfo"
	recordCredentials = "credentials"
)

// attemptRecord is the report's record kind of a history attempt, and the detail it adds.
func attemptRecord(a v1.ValidationAttempt) (string, string) {
	switch a.Kind {
	case v1.AttemptServerInfo:
		return recordServerInfo, ""
	case v1.AttemptCredentials:
		return recordCredentials, ""
	case v1.AttemptCandidateCheck:
		return recordSignIn, "candidate check before promotion; "
	}
	return recordSignIn, ""
}

func loadReport(ctx context.Context, c client.Client, ns string, now time.Time, since time.Duration) (report, error) {
	var conns v1.TableauConnectionList
	var fleets v1.TableauFleetList
	opts := []client.ListOption{}
	if ns != "" {
		opts = append(opts, client.InNamespace(ns))
	}
	if err := c.List(ctx, &conns, opts...); err != nil {
		return report{}, apiError("listing TableauConnections", err)
	}
	if err := c.List(ctx, &fleets, opts...); err != nil {
		return report{}, apiError("listing TableauFleets", err)
	}
	return buildReport(conns.Items, fleets.Items, now, since), nil
}

// buildReport is the pure part: rows from objects, sorted by namespace and name, and with
// since > 0 the events recorded at or after now-since, oldest first.
func buildReport(conns []v1.TableauConnection, fleets []v1.TableauFleet, now time.Time, since time.Duration) report {
	rep := report{GeneratedAt: now.UTC(), Connections: []connectionRow{}}
	// What Tableau sent reaches a terminal, a spreadsheet or a log pipeline: printable only.
	conns, fleets = scrubbedConnections(conns), scrubbedFleets(fleets)
	var from time.Time
	if since > 0 {
		// Status records times to the second: an event in the window's first second counts.
		from = now.Add(-since).UTC().Truncate(time.Second)
		rep.Since = &from
	}
	sort.Slice(conns, func(i, j int) bool {
		if conns[i].Namespace != conns[j].Namespace {
			return conns[i].Namespace < conns[j].Namespace
		}
		return conns[i].Name < conns[j].Name
	})
	for i := range conns {
		conn := &conns[i]
		rep.Connections = append(rep.Connections, rowOf(conn, fleets))
		if since > 0 {
			rep.Events = append(rep.Events, eventsOf(conn, from)...)
		}
	}
	sort.SliceStable(rep.Events, func(i, j int) bool { return rep.Events[i].Time.Before(rep.Events[j].Time) })
	return rep
}

func rowOf(conn *v1.TableauConnection, fleets []v1.TableauFleet) connectionRow {
	st := conn.Status
	row := connectionRow{Namespace: conn.Namespace, Name: conn.Name, Server: conn.Spec.Server, Site: conn.Spec.Site, APIVersion: conn.Spec.APIVersion}
	row.Ready, row.Reason = readyOf(conn)
	for i := range fleets {
		if fleets[i].Namespace == conn.Namespace && selects(&fleets[i], conn) {
			if row.Fleet != "" {
				row.Fleet += "+"
			}
			row.Fleet += fleets[i].Name
		}
	}
	if f := st.LastFailure; f != nil {
		row.Bucket, row.ConsecutiveFailures, row.LastRequestID = f.Bucket, f.ConsecutiveFailures, f.RequestID
	}
	if row.LastRequestID == "" && len(st.History) > 0 {
		row.LastRequestID = st.History[0].RequestID
	}
	if c := st.Credentials; c != nil {
		row.LastSignIn = timeOf(c.LastSignInTime)
	}
	// The expiry of the credential consumers use, as status shows it: none for a connected
	// app, none recorded while the source holds a credential other than the active one.
	_, row.Expiry = expiryOf(conn, time.Time{})
	if rs := st.Rotation; rs != nil {
		row.RotationPhase = rs.Phase
		row.LastRotation = timeOf(rs.LastCompletionTime)
		row.Due = timeOf(rs.DueTime)
	}
	return row
}

func eventsOf(conn *v1.TableauConnection, from time.Time) []eventRow {
	st := conn.Status
	var out []eventRow
	add := func(t time.Time, e eventRow) {
		if t.Before(from) {
			return
		}
		e.Time, e.Namespace, e.Name = t.UTC(), conn.Namespace, conn.Name
		out = append(out, e)
	}
	for _, a := range st.History {
		record, detail := attemptRecord(a)
		add(a.Time.Time, eventRow{Record: record, Kind: a.Kind, Result: a.Result, Bucket: a.Bucket, Reason: a.Reason, HTTPStatus: a.HTTPStatus,
			TableauCode: a.TableauCode, RequestID: a.RequestID, Revision: a.Revision, Detail: fmt.Sprintf("%slatency %dms", detail, a.LatencyMs)})
	}
	if rs := st.Rotation; rs != nil {
		if rs.LastCompletionTime != nil {
			add(rs.LastCompletionTime.Time, eventRow{Record: recordRotation, Result: "Completed", Reason: v1.ReasonRotationCompleted, Revision: rs.ActiveRevision})
		}
		switch rs.Phase {
		case v1.RotationFailed:
			add(rs.PhaseSince.Time, eventRow{Record: recordRotation, Result: "Failed", Reason: rs.Reason, Revision: rs.FailedRevision, Detail: truncate(rs.Message, 240)})
		case v1.RotationRollingBack:
			add(rs.PhaseSince.Time, eventRow{Record: recordRotation, Result: "RollingBack", Reason: rs.Reason, Revision: rs.CandidateRevision, Detail: truncate(rs.Message, 240)})
		}
	}
	if f := st.LastFailure; f != nil {
		add(f.Time.Time, eventRow{Record: recordFailure, Result: "Failing", Bucket: f.Bucket, Reason: f.Reason, HTTPStatus: f.HTTPStatus, TableauCode: f.TableauCode,
			RequestID: f.RequestID, Revision: f.Revision, Detail: fmt.Sprintf("%d in a row since %s, stage %s", f.ConsecutiveFailures, f.Since.UTC().Format(time.RFC3339), f.Stage)})
	}
	return out
}

func timeOf(t *metav1.Time) *time.Time {
	if t == nil || t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// csvHeader is the one header of -o csv; the record column says what a row is.
var csvHeader = []string{"record", "time", "namespace", "name", "fleet", "server", "site", "api_version", "ready", "bucket", "reason", "result",
	"last_sign_in", "expiry", "rotation_phase", "last_rotation", "rotation_due", "consecutive_failures", "request_id", "http_status", "tableau_code",
	"revision", "detail"}

func writeCSV(w io.Writer, rep report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	gen := rep.GeneratedAt.Format(time.RFC3339)
	for _, r := range rep.Connections {
		if err := cw.Write([]string{recordConnection, gen, r.Namespace, r.Name, r.Fleet, r.Server, r.Site, r.APIVersion, r.Ready, r.Bucket, r.Reason, "",
			rfc(r.LastSignIn), rfc(r.Expiry), r.RotationPhase, rfc(r.LastRotation), rfc(r.Due), strconv.Itoa(int(r.ConsecutiveFailures)), r.LastRequestID,
			"", "", "", ""}); err != nil {
			return err
		}
	}
	for _, ev := range rep.Events {
		if err := cw.Write([]string{ev.Record, ev.Time.Format(time.RFC3339), ev.Namespace, ev.Name, "", "", "", "", "", ev.Bucket, ev.Reason, ev.Result,
			"", "", "", "", "", "", ev.RequestID, httpStatus(ev.HTTPStatus), ev.TableauCode, ev.Revision, ev.Detail}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func rfc(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func writeTable(w io.Writer, rep report, withNamespace bool) {
	now := rep.GeneratedAt
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := "NAME\tFLEET\tSERVER\tSITE\tAPI\tREADY\tBUCKET\tREASON\tLAST SIGN-IN\tEXPIRY\tROTATION\tLAST ROTATION\tDUE\tFAILURES\tLAST REQUEST ID"
	if withNamespace {
		head = "NAMESPACE\t" + head
	}
	fmt.Fprintln(tw, head)
	for _, r := range rep.Connections {
		line := fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s", r.Name, orDash(r.Fleet), r.Server, orDash(r.Site), r.APIVersion, r.Ready,
			orDash(r.Bucket), orDash(r.Reason), relative(r.LastSignIn, now), relative(r.Expiry, now), orDash(r.RotationPhase), relative(r.LastRotation, now),
			relative(r.Due, now), r.ConsecutiveFailures, orDash(r.LastRequestID))
		if withNamespace {
			line = r.Namespace + "\t" + line
		}
		fmt.Fprintln(tw, line)
	}
	_ = tw.Flush()
	if rep.Since == nil {
		return
	}
	fmt.Fprintf(w, "\nRecorded since %s (%d):\n", rep.Since.Format(time.RFC3339), len(rep.Events))
	if len(rep.Events) == 0 {
		return
	}
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tNAMESPACE\tNAME\tRECORD\tRESULT\tBUCKET\tREASON\tHTTP\tCODE\tREQUEST ID\tREVISION")
	for _, ev := range rep.Events {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", ev.Time.Format(time.RFC3339), ev.Namespace, ev.Name, ev.Record, ev.Result,
			orDash(ev.Bucket), orDash(ev.Reason), orDash(httpStatus(ev.HTTPStatus)), orDash(ev.TableauCode), orDash(ev.RequestID), orDash(ev.Revision))
	}
	_ = tw.Flush()
}

// relative is a short age ("5m") for past times and "in 3d" for future ones.
func relative(t *time.Time, now time.Time) string {
	if t == nil {
		return "-"
	}
	d := now.Sub(*t)
	if d < 0 {
		return "in " + duration.HumanDuration(-d)
	}
	return duration.HumanDuration(d)
}
