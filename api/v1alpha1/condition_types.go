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
)

// Reasons of the operator's own states. Failure reasons are the classifier's
// (internal/classify), so one word means one thing in conditions, events and metrics.
const (
	ReasonSignedIn             = "SignedIn"
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
