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

package v1alpha1

// Condition types of a TableauConnection. Ready summarises; Reconciling and Stalled follow
// kstatus, so kubectl wait, Flux and Argo CD agree on what the object's state means.
const (
	ConditionReady               = "Ready"
	ConditionReconciling         = "Reconciling"
	ConditionStalled             = "Stalled"
	ConditionSignedIn            = "SignedIn"
	ConditionAPIVersionSupported = "APIVersionSupported"
	ConditionRotationDue         = "RotationDue"
	// ConditionAutomaticRotation is set with spec.rotation.automatic: True while it works or
	// waits for its schedule, False with the failure's reason and next step when a step failed
	// (transient failures retry with backoff) or the app holds two secrets. It does not change
	// Ready or Stalled, which are about the consumers' credential.
	ConditionAutomaticRotation = "AutomaticRotation"
	// ConsumersReady says whether the consumer Secret holds the active bundle (with consumers).
	ConditionConsumersReady = "ConsumersReady"
	// CandidateValid says whether the new credential in the source may replace the active
	// one; False names the failure and the next step while consumers keep working.
	ConditionCandidateValid = "CandidateValid"
	// WritesAccepted says whether the API server accepted the operator's writes of the
	// rotation (the candidate, previous and consumer Secrets, the restart annotation). False
	// names the API's reason (Forbidden, QuotaExceeded, Conflict, Invalid) and the next step;
	// it appears with the first refusal and turns True once the writes go through again.
	ConditionWritesAccepted = "WritesAccepted"
	// ConditionClaimed says which install of the operator acts on the connection (see
	// status.claim): True while one holds a live claim alone, False when another install
	// also watches it and stands aside (a second install to split with --watch-namespaces),
	// Unknown once the holder's claim expired and no install has taken it over yet.
	ConditionClaimed = "Claimed"
	// Fleet conditions.
	ConditionHalted                  = "Halted"
	ConditionSuspectedVendorIncident = "SuspectedVendorIncident"
)

// Annotations users set.
const (
	// AnnotationRequestedAt on a TableauConnection asks for a re-validation, or a retry of a
	// failed rotation; status.lastHandledRequest echoes the value handled.
	AnnotationRequestedAt = "tableau-operator.dev/requested-at"
	// AnnotationResume on a TableauFleet resumes a halted wave past its failed members;
	// status.lastHandledResume echoes the value handled.
	AnnotationResume = "tableau-operator.dev/resume"
	// AnnotationRestartedAt is the pod-template annotation that restarts consumers.
	AnnotationRestartedAt = "tableau-operator.dev/restartedAt"
	// AnnotationRevision on consumer Secrets names the credential revision they hold.
	AnnotationRevision = "tableau-operator.dev/revision"
	// AnnotationEndpoint on consumer Secrets is a digest of the server, site and apiVersion
	// the bundle holds: compared from the metadata cache, it makes convergence cheap.
	AnnotationEndpoint = "tableau-operator.dev/endpoint"
	// AnnotationConnection and AnnotationConnectionUID on every Secret the operator creates
	// name the TableauConnection it was created for. With the managed labels they are the
	// operator's mark: it writes and deletes no Secret without it.
	AnnotationConnection    = "tableau-operator.dev/connection"
	AnnotationConnectionUID = "tableau-operator.dev/connection-uid"
	// AnnotationSupersedes on the consumer Secret records which secret of the person's Secret
	// the operator's issued secret superseded (clientId#secretId, ids only), so that a
	// connection re-created beside the retained Secret signs in with the issued secret.
	AnnotationSupersedes = "tableau-operator.dev/supersedes"
)

// The credential label. Its owner sets it to "true" on a Secret the operator may read (a
// source Secret or a CA-bundle Secret): without that consent the operator reads nothing of
// it. The operator sets it to "managed" on every Secret it creates (consumer, staged and
// previous copies). The operator's Secret cache watches only Secrets that carry one of the
// two values, so unrelated Secrets cost it no memory.
const (
	LabelCredential   = "tableau-operator.dev/credential"
	CredentialConsent = "true"
	CredentialManaged = "managed"
	// LabelManagedBy is the recommended app.kubernetes.io label, also on every Secret the
	// operator creates.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	ManagedByValue = "tableau-operator"
)

// Reasons of the operator's own states. Failure reasons are the classifier's
// (internal/classify), so one word means one thing in conditions, events and metrics.
const (
	ReasonSignedIn = "SignedIn"
	// ReasonValidatedBefore: the retained consumer Secret shows the revision validated
	// before the connection was re-created; no sign-in ended its sessions.
	ReasonValidatedBefore      = "ValidatedBefore"
	ReasonAPIVersionSupported  = "APIVersionSupported"
	ReasonSuspended            = "Suspended"
	ReasonProgressing          = "Progressing"
	ReasonProgressingRetry     = "ProgressingWithRetry"
	ReasonSucceeded            = "Succeeded"
	ReasonNotStalled           = "NotStalled"
	ReasonAwaitingSignIn       = "AwaitingSignIn"
	ReasonServerUnknown        = "ServerUnknown"
	ReasonSignInRestored       = "SignInRestored"
	ReasonPATExpiryApproaching = "PATExpiryApproaching"

	ReasonRotationDue        = "RotationDue"
	ReasonRotationNotDue     = "RotationNotDue"
	ReasonRotationStaged     = "RotationStaged"
	ReasonPromotionStarted   = "PromotionStarted"
	ReasonHealthGatePassed   = "HealthGatePassed"
	ReasonCredentialPromoted = "CredentialPromoted"
	ReasonConsumersRestarted = "ConsumersRestarted"
	ReasonRotationCompleted  = "RotationCompleted"
	// ReasonFirstDelivery: consumers got their first credential (no active revision before):
	// not a rotation, and no rotation is counted or recorded for it.
	ReasonFirstDelivery = "FirstDelivery"
	// ReasonFirstDeliveryCompleted: the first credential passed the health gate and is active.
	ReasonFirstDeliveryCompleted = "FirstDeliveryCompleted"
	// ReasonRollbackRestart and ReasonTargetAdded are the reasons of the Restart audit line of
	// a rollback's restart and of a target added during the health gate.
	ReasonRollbackRestart    = "RollbackRestart"
	ReasonTargetAdded        = "TargetAdded"
	ReasonRotationRolledBack = "RotationRolledBack"
	ReasonRotationRejected   = "RotationRejected"
	ReasonGateTimedOut       = "GateTimedOut"
	ReasonCandidateRejected  = "CandidateRejected"
	ReasonCandidateValid     = "CandidateValid"
	ReasonNoCandidate        = "NoCandidate"
	ReasonCandidatePending   = "CandidatePending"
	ReasonConsumersReady     = "ConsumersHoldActiveCredential"
	ReasonConsumersPending   = "ConsumersPending"
	// ReasonConsumerSecretMissing: the consumer Secret was delivered and is gone now (deleted,
	// or spec.consumers.secretName renamed).
	ReasonConsumerSecretMissing = "ConsumerSecretMissing"
	// ReasonConsumerSecretChanged: the consumer Secret holds a bundle the operator did not
	// deliver for this rotation (edited, or restored from an old copy).
	ReasonConsumerSecretChanged = "ConsumerSecretChanged"
	// ReasonConsumersNotObserved: no reconcile has looked at the consumer Secret yet.
	ReasonConsumersNotObserved = "ConsumersNotObserved"
	ReasonSecretNameTaken      = "SecretNameTaken"
	ReasonFleetConflict        = "SelectedByTwoFleets"

	// Reasons of WritesAccepted: the API server's status reason of a refused write, an
	// exceeded ResourceQuota (which the API reports as Forbidden) told apart.
	ReasonWritesAccepted     = "WritesAccepted"
	ReasonWriteForbidden     = "Forbidden"
	ReasonWriteQuotaExceeded = "QuotaExceeded"
	ReasonWriteConflict      = "Conflict"
	ReasonWriteInvalid       = "Invalid"
	ReasonWriteRefused       = "WriteRefused"

	// Reasons of Claimed.
	ReasonClaimed                 = "Claimed"
	ReasonClaimedByAnotherInstall = "ClaimedByAnotherInstall"
	ReasonClaimExpired            = "ClaimExpired"

	ReasonFleetHalted      = "MemberFailed"
	ReasonFleetNotHalted   = "NoFailedMember"
	ReasonFleetResumed     = "Resumed"
	ReasonVendorIncident   = "CorrelatedFailures"
	ReasonNoVendorIncident = "NoCorrelatedFailures"
	ReasonFleetRolling     = "Rolling"
	ReasonFleetSettled     = "Settled"
)

// Stages of validation, as recorded in status.lastFailure.stage.
const (
	StageCredentials = "Credentials"
	StageServer      = "Server"
	StageSignIn      = "SignIn"
)

// Results of a validation attempt.
const (
	ResultSucceeded = "Succeeded"
	ResultFailed    = "Failed"
)
