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

// Package audit writes one structured log line per credential action, with stable keys a log
// pipeline filters on (audit=true) and keeps for as long as it likes: Kubernetes Events expire
// after an hour and status.history keeps 10 attempts. A line names the credential by its
// revision digest or a connected app's secret id, never by a value: Entry has no field that
// could hold one.
package audit

import (
	"context"
	"time"

	"github.com/go-logr/logr"
	"go.uber.org/zap/zapcore"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/tableau-operator/tableau-operator/internal/bound"
)

// Action is what the operator did with a credential.
type Action string

// The actions. Their values are the schema's `action` values; changing one breaks the log
// pipelines that filter on it.
const (
	// SignIn: the operator signed in with the connection's credential (result Succeeded or Failed).
	SignIn Action = "SignIn"
	// CandidateStaged: a new credential in the source was validated and waits for its turn.
	CandidateStaged Action = "CandidateStaged"
	// CandidateRejected: a new credential failed its sign-in; consumers keep the active one.
	CandidateRejected Action = "CandidateRejected"
	// Promotion: the consumer Secret got the candidate (the previous one kept for rollback).
	Promotion Action = "Promotion"
	// FirstDelivery: the consumer Secret got its first credential (no active revision
	// before). Not a rotation: no Promotion, no RotationCompleted.
	FirstDelivery Action = "FirstDelivery"
	// Restart: the restart targets were rolled: after a promotion or a first delivery
	// (reason ConsumersRestarted or FirstDelivery), on a rollback (RollbackRestart), or for a
	// target added during the health gate (TargetAdded). One line per change of the targets'
	// pod templates.
	Restart Action = "Restart"
	// Gate: the health gate's result (Passed or TimedOut).
	Gate Action = "Gate"
	// Rollback: the previous credential was restored to the consumers.
	Rollback Action = "Rollback"
	// RotationCompleted: the candidate became the active credential.
	RotationCompleted Action = "RotationCompleted"
	// SecretCreated and SecretDeleted: a connected-app secret on Tableau (by its id).
	SecretCreated Action = "ConnectedAppSecretCreated"
	SecretDeleted Action = "ConnectedAppSecretDeleted"
	// AdminSession: a sign-in with a site administrator's PAT (automatic rotation, PAT expiry).
	AdminSession Action = "AdminSession"
)

// Actions lists every action, for the schema and its tests.
var Actions = []Action{SignIn, CandidateStaged, CandidateRejected, Promotion, FirstDelivery, Restart, Gate, Rollback, RotationCompleted,
	SecretCreated, SecretDeleted, AdminSession}

// Results.
const (
	Succeeded = "Succeeded"
	Failed    = "Failed"
	Passed    = "Passed"
	TimedOut  = "TimedOut"
)

// Keys of every audit line, in the order they are written. Every line carries every key (an
// empty string when it does not apply), so a pipeline's schema never guesses.
const (
	KeyAudit       = "audit"
	KeyAction      = "action"
	KeyNamespace   = "namespace"
	KeyName        = "name"
	KeyRevision    = "revision"
	KeySecretID    = "secretID"
	KeyRequestID   = "requestID"
	KeyBucket      = "bucket"
	KeyResult      = "result"
	KeyReason      = "reason"
	KeyReconcileID = "reconcileID"
	// Message is the log line's msg.
	Message = "audit"
)

// Keys lists the keys in order.
var Keys = []string{KeyAudit, KeyAction, KeyNamespace, KeyName, KeyRevision, KeySecretID, KeyRequestID, KeyBucket, KeyResult, KeyReason, KeyReconcileID}

// Entry is what a line says besides the action and the object. It has no field for a
// credential's value, by design.
type Entry struct {
	// Revision is the 12-digit non-reversible digest of the credential concerned.
	Revision string
	// SecretID is a connected app's secret id (the JWT's kid, not secret).
	SecretID string
	// RequestID is Tableau's request id of the call, when there was one.
	RequestID string
	// Bucket is the failure class, when the action failed.
	Bucket string
	// Result is Succeeded, Failed, Passed or TimedOut.
	Result string
	// Reason is the CamelCase reason, as in conditions and events.
	Reason string
}

// Object is the TableauConnection the action was for.
type Object interface {
	GetNamespace() string
	GetName() string
}

// logger is where lines go: the manager's logger, named "audit".
var logger = func() logr.Logger { return ctrl.Log.WithName("audit") }

// SetLogger sends the lines to l (tests).
func SetLogger(l logr.Logger) { logger = func() logr.Logger { return l } }

// maxValue bounds every value, in bytes and with bound.Marker where one was cut: they come
// from status and Tableau's answers.
const maxValue = 128

// Log writes the line of one action.
func Log(ctx context.Context, action Action, obj Object, e Entry) {
	reconcileID := ""
	if ctx != nil {
		reconcileID = string(controller.ReconcileIDFromContext(ctx))
	}
	logger().Info(Message,
		KeyAudit, true,
		KeyAction, string(action),
		KeyNamespace, bound.Text(obj.GetNamespace(), maxValue),
		KeyName, bound.Text(obj.GetName(), maxValue),
		KeyRevision, bound.Text(e.Revision, maxValue),
		KeySecretID, bound.Text(e.SecretID, maxValue),
		KeyRequestID, bound.Text(e.RequestID, maxValue),
		KeyBucket, bound.Text(e.Bucket, maxValue),
		KeyResult, bound.Text(e.Result, maxValue),
		KeyReason, bound.Text(e.Reason, maxValue),
		KeyReconcileID, bound.Text(reconcileID, maxValue),
	)
}

// TimeLayout is the layout of every line's ts: RFC 3339 in UTC with nine fractional digits.
// Tens of actions fall in one second during a rotation, so seconds alone cannot order the
// trail; a fixed width (unlike time.RFC3339Nano, which drops trailing zeros) keeps ts sorting
// as text in time order, and time.RFC3339Nano still parses it.
const TimeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// TimeEncoder writes a line's time in TimeLayout, in UTC whatever the process's time zone.
func TimeEncoder(t time.Time, enc zapcore.PrimitiveArrayEncoder) {
	enc.AppendString(t.UTC().Format(TimeLayout))
}

// UseTimeEncoder makes the logger built from o write ts with TimeEncoder. zap writes ts, not
// Log: the audit lines share the manager's logger (and its destination and level), so the
// manager calls this on its zap options before it parses its flags; --zap-time-encoding, when
// given, still overrides it.
func UseTimeEncoder(o *zap.Options) {
	o.TimeEncoder = TimeEncoder
}

// Result of an error: Succeeded when nil.
func Result(err error) string {
	if err != nil {
		return Failed
	}
	return Succeeded
}
