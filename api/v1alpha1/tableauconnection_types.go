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

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TableauConnectionSpec says which Tableau site to sign in to, with which credential, and at
// which pinned REST API version.
// +kubebuilder:validation:XValidation:rule="!self.server.startsWith('http://') || (has(self.allowInsecureHTTP) && self.allowInsecureHTTP)",message="server uses http://, which would send the personal access token unencrypted: use https://, or set allowInsecureHTTP: true (only for a local simulator or test server)",fieldPath=".server"
// +kubebuilder:validation:XValidation:rule="!(isURL(self.server) && url(self.server).getHostname().endsWith('.online.tableau.com')) || (has(self.site) && self.site.size() > 0)",message="site is required for Tableau Cloud (server *.online.tableau.com): set it to the site's contentUrl, the part after /#/site/ in the browser's address",fieldPath=".site"
// +kubebuilder:validation:XValidation:rule="!has(self.consumers) || !has(self.auth.personalAccessToken) || self.consumers.secretName != self.auth.personalAccessToken.secretRef.name",message="consumers.secretName must differ from the source Secret (auth.personalAccessToken.secretRef.name): the operator writes the consumer Secret and would overwrite the credential you gave it",fieldPath=".consumers.secretName"
// +kubebuilder:validation:XValidation:rule="!has(self.consumers) || !has(self.auth.connectedApp) || self.consumers.secretName != self.auth.connectedApp.secretRef.name",message="consumers.secretName must differ from the source Secret (auth.connectedApp.secretRef.name): the operator writes the consumer Secret and would overwrite the credential you gave it",fieldPath=".consumers.secretName"
// +kubebuilder:validation:XValidation:rule="!has(self.consumers) || has(self.auth.connectedApp) || !has(self.validation) || !has(self.validation.signIn) || self.validation.signIn != 'Periodic'",message="validation.signIn: Periodic cannot be used with consumers of a personal access token: a PAT holds one session, so each scheduled sign-in would end the session of every workload using it; use OnChange (the default), or a connected app (each JWT sign-in is its own session)",fieldPath=".validation.signIn"
// +kubebuilder:validation:XValidation:rule="!has(self.auth.connectedApp) || self.apiVersion.matches('^(3[.](1[7-9]|[2-9][0-9]|[1-9][0-9][0-9]+)|([4-9]|[1-9][0-9]+)[.][0-9]+)$')",message="apiVersion must be 3.17 or later with auth.connectedApp: sign-in with a connected-app JWT needs REST API 3.17 (Tableau Server 2023.1) or later",fieldPath=".apiVersion"
// +kubebuilder:validation:XValidation:rule="!has(self.validation) || !has(self.validation.adminSecretRef) || (has(self.auth.personalAccessToken) && self.apiVersion.matches('^(3[.](2[1-9]|[3-9][0-9]|[1-9][0-9][0-9]+)|([4-9]|[1-9][0-9]+)[.][0-9]+)$'))",message="validation.adminSecretRef reads a PAT's expiry through List Personal Access Tokens: it needs auth.personalAccessToken and apiVersion 3.21 or later (Tableau Cloud)",fieldPath=".validation.adminSecretRef"
// +kubebuilder:validation:XValidation:rule="!has(self.rotation) || !has(self.rotation.automatic) || (has(self.auth.connectedApp) && has(self.consumers))",message="rotation.automatic needs auth.connectedApp and consumers: Tableau's REST API can create connected-app secrets but not personal access tokens, and a rotation hands the new secret to the consumer Secret",fieldPath=".rotation.automatic"
// +kubebuilder:validation:XValidation:rule="!has(self.rotation) || !has(self.rotation.automatic) || !has(self.auth.connectedApp) || self.rotation.automatic.adminSecretRef.name != self.auth.connectedApp.secretRef.name",message="rotation.automatic.adminSecretRef must name a Secret other than auth.connectedApp.secretRef: the administrator's PAT and the connected app's secret are different credentials",fieldPath=".rotation.automatic.adminSecretRef.name"
// +kubebuilder:validation:XValidation:rule="!has(self.rotation) || !has(self.rotation.automatic) || !has(self.consumers) || self.rotation.automatic.adminSecretRef.name != self.consumers.secretName",message="rotation.automatic.adminSecretRef must not be the consumer Secret: the administrator's PAT is for the operator alone and never reaches workloads",fieldPath=".rotation.automatic.adminSecretRef.name"
// +kubebuilder:validation:XValidation:rule="!has(self.validation) || !has(self.validation.adminSecretRef) || !has(self.auth.personalAccessToken) || self.validation.adminSecretRef.name != self.auth.personalAccessToken.secretRef.name",message="validation.adminSecretRef must name a Secret other than auth.personalAccessToken.secretRef: the expiry check signs in with the administrator's PAT, and signing in with the PAT consumers hold would end their sessions",fieldPath=".validation.adminSecretRef.name"
// +kubebuilder:validation:XValidation:rule="!has(self.validation) || !has(self.validation.adminSecretRef) || !has(self.consumers) || self.validation.adminSecretRef.name != self.consumers.secretName",message="validation.adminSecretRef must not be the consumer Secret: the administrator's PAT is for the operator alone and never reaches workloads",fieldPath=".validation.adminSecretRef.name"
type TableauConnectionSpec struct {
	// server is the Tableau Server URL or the Tableau Cloud pod URL, scheme and host only,
	// for example https://tableau.example.com or https://10ay.online.tableau.com.
	// The operator adds /api/<apiVersion>/... itself.
	// +required
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.startsWith('https://') || self.startsWith('http://')",message="server must start with https:// (or http:// together with allowInsecureHTTP: true), for example https://10ay.online.tableau.com"
	// +kubebuilder:validation:XValidation:rule="!(self.startsWith('https://') || self.startsWith('http://')) || (isURL(self) && url(self).getHostname() != '')",message="server must be an absolute URL with a host name, for example https://tableau.example.com"
	// +kubebuilder:validation:XValidation:rule="!self.contains('@')",message="server must not contain user credentials (user:password@host): the personal access token belongs in the Secret named by spec.auth.personalAccessToken.secretRef"
	// +kubebuilder:validation:XValidation:rule="!self.contains('?')",message="server must not contain a query string (?...): give only the scheme and host, for example https://tableau.example.com"
	// +kubebuilder:validation:XValidation:rule="!self.contains('#')",message="server must not contain a fragment (#...): put the site's contentUrl (the part after /#/site/) in spec.site and give only the scheme and host here"
	// +kubebuilder:validation:XValidation:rule="self.contains('@') || self.contains('?') || self.contains('#') || !isURL(self) || url(self).getEscapedPath().size() <= 1",message="server must not contain a path: give only the scheme, host and optional port (the operator adds /api/<apiVersion>/ itself), for example https://tableau.example.com"
	Server string `json:"server"`

	// site is the site's contentUrl, the part after /#/site/ in the browser's address.
	// An empty string is the default site of Tableau Server; Tableau Cloud always needs one.
	// +optional
	// +kubebuilder:default=""
	// +kubebuilder:validation:MaxLength=255
	// +kubebuilder:validation:XValidation:rule="self.matches('^[A-Za-z0-9_-]*$')",message="site must be the site's contentUrl: letters, digits, '-' and '_' only (the part after /#/site/ in the browser's address); use an empty string for the default site of Tableau Server"
	Site string `json:"site"`

	// apiVersion is the pinned Tableau REST API version, for example 3.24. It must not be
	// higher than the server's restApiVersion (see status and serverinfo).
	// +required
	// +kubebuilder:validation:MaxLength=8
	// +kubebuilder:validation:XValidation:rule="self.matches('^[0-9]+[.][0-9]+$')",message="apiVersion must be a Tableau REST API version written major.minor, for example 3.24"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^[0-9]+[.][0-9]+$') || self.matches('^(3[.]([6-9]|[1-9][0-9])|([4-9]|[1-9][0-9]+)[.][0-9]+)$')",message="apiVersion must be 3.6 or later: sign-in with a personal access token needs REST API 3.6 (Tableau Server 2019.4) or later"
	APIVersion string `json:"apiVersion"`

	// auth names the credential the operator validates.
	// +required
	Auth AuthSpec `json:"auth"`

	// tls configures how the server's certificate is verified. Verification is always on.
	// +optional
	TLS *TLSSpec `json:"tls,omitempty"`

	// allowInsecureHTTP permits an http:// server. Only for local simulators and tests:
	// over http the personal access token travels unencrypted.
	// +optional
	// +kubebuilder:default=false
	AllowInsecureHTTP bool `json:"allowInsecureHTTP,omitempty"`

	// suspend stops every Tableau call for this connection until it is set back to false.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// validation says when the operator signs in to check the credential, and how often it
	// checks the server's API version (which needs no credential).
	// +optional
	Validation ValidationSpec `json:"validation,omitempty"`

	// consumers names the Secret that workloads mount and the workloads to restart when the
	// credential in it changes. Without consumers the operator only validates.
	// +optional
	Consumers *ConsumersSpec `json:"consumers,omitempty"`

	// rotation configures how a new credential in the source Secret reaches the consumers, and
	// (with a connected app) how the operator creates new credentials itself.
	// +optional
	Rotation RotationSpec `json:"rotation,omitempty"`
}

// ConsumersSpec describes who uses the credential.
type ConsumersSpec struct {
	// secretName is a Secret in the connection's namespace that the operator owns and writes:
	// the active credential as a complete bundle under the keys tokenName, tokenSecret, server,
	// site and apiVersion. While a rotation runs, the previous credential is kept in
	// <secretName>-previous for rollback; a validated candidate waits in <secretName>-candidate.
	// +required
	// +kubebuilder:validation:MaxLength=240
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')",message="consumers.secretName must be a Secret name: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit (at most 240 characters, leaving room for the -candidate and -previous siblings)"
	SecretName string `json:"secretName"`

	// restartTargets are rolled once per promotion (and once per rollback), like
	// `kubectl rollout restart`, through a pod-template annotation.
	// +optional
	// +kubebuilder:validation:MaxItems=20
	// +listType=atomic
	RestartTargets []RestartTarget `json:"restartTargets,omitempty"`

	// deletionPolicy says what happens to the consumer Secret when the TableauConnection is
	// deleted. Retain (default) keeps it, with the live credential, and sets no owner reference
	// on it: an Argo CD prune, a renamed manifest or a removed CRD leaves workloads signed in.
	// Delete gives it an owner reference, so the garbage collector removes it with the
	// connection. The staged and previous copies are always owned by the connection.
	// +optional
	// +kubebuilder:default=Retain
	// +kubebuilder:validation:Enum=Retain;Delete
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`
}

// DeletionPolicy says whether the consumer Secret outlives its TableauConnection.
type DeletionPolicy string

const (
	// DeletionRetain keeps the consumer Secret when the connection is deleted.
	DeletionRetain DeletionPolicy = "Retain"
	// DeletionDelete deletes the consumer Secret with the connection.
	DeletionDelete DeletionPolicy = "Delete"
)

// RestartTarget is a workload in the connection's namespace.
type RestartTarget struct {
	// +required
	// +kubebuilder:validation:Enum=Deployment;StatefulSet;DaemonSet
	Kind string `json:"kind"`
	// +required
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')",message="restartTargets[].name must be a workload name: lowercase letters, digits, '-' and '.'"
	Name string `json:"name"`
}

// RotationSpec configures rotation.
type RotationSpec struct {
	// healthCheck is the gate after consumers get a new credential.
	// +optional
	HealthCheck RotationHealthCheck `json:"healthCheck,omitempty"`

	// maxAge is how long a PAT may stay active before a rotation is due.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1h')",message="rotation.maxAge must be at least 1h"
	MaxAge *metav1.Duration `json:"maxAge,omitempty"`

	// automatic makes the operator create, roll out and retire connected-app secrets on a
	// schedule (auth.connectedApp and consumers only).
	// +optional
	Automatic *AutomaticRotation `json:"automatic,omitempty"`

	// renewBefore is how long before maxAge, or before the expiry Tableau reported, the
	// RotationDue condition turns True, so a person creates the next PAT in time. Default 336h.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1h')",message="rotation.renewBefore must be at least 1h"
	RenewBefore *metav1.Duration `json:"renewBefore,omitempty"`
}

// AutomaticRotation rotates a connected app's secret with no person involved: the operator
// creates a new secret on the app through Tableau's REST API, validates it with a JWT sign-in,
// rolls it out to the consumers behind the health gate, and then deletes the old secret on
// Tableau (or, on rollback, the new one). A connected app holds at most two secrets.
type AutomaticRotation struct {
	// every is how long a connected-app secret stays active before the operator replaces it,
	// for example 720h. At least 1m (short periods are for demos and tests).
	// +required
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1m')",message="rotation.automatic.every must be at least 1m"
	Every metav1.Duration `json:"every"`

	// adminSecretRef is a Secret in the connection's namespace with the personal access token
	// of a site administrator, which may create and delete the connected app's secrets.
	// This PAT must be used ONLY by the operator: a PAT holds one session, and each operator
	// sign-in with it ends every other session of that PAT. Never give it to a workload.
	// +required
	AdminSecretRef PATSecretReference `json:"adminSecretRef"`
}

// RotationHealthCheck is the gate after a promotion.
type RotationHealthCheck struct {
	// timeout is how long the restarted consumers may take to become available again before
	// the operator rolls back. Default 10m.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('10s') && duration(self) <= duration('24h')",message="rotation.healthCheck.timeout must be between 10s and 24h"
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// signInBeforePromotion signs in with the candidate once more right before consumers get
	// it, so a PAT revoked while it waited for its turn never reaches them. Default true; the
	// candidate is used by nobody yet, so this ends no one's session.
	// +optional
	// +kubebuilder:default=true
	SignInBeforePromotion *bool `json:"signInBeforePromotion,omitempty"`

	// recheckAfter is how recent a successful sign-in with the candidate's revision (at the
	// same server and site) must be to count as the sign-in before promotion, so a credential
	// validated a moment ago (a first delivery, or a rotation whose turn came at once) signs
	// in once, not twice. A candidate that waited longer for its turn signs in again. Default
	// 5s; 0s always signs in again.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('0s') && duration(self) <= duration('10m')",message="rotation.healthCheck.recheckAfter must be between 0s and 10m"
	RecheckAfter *metav1.Duration `json:"recheckAfter,omitempty"`
}

// SignInPolicy says when the operator signs in with the connection's PAT.
// +kubebuilder:validation:Enum=OnChange;Periodic
type SignInPolicy string

const (
	// SignInOnChange signs in only when the Secret's credential, the server or the site
	// changed, when requested-at asks, or to retry a failed sign-in. A PAT holds one session,
	// so no other spec edit and no schedule ends a workload's session.
	SignInOnChange SignInPolicy = "OnChange"
	// SignInPeriodic also signs in every interval: for PATs only the operator uses, and to keep
	// an unused PAT from Tableau's 15-day idle expiry.
	SignInPeriodic SignInPolicy = "Periodic"
)

// ValidationSpec configures validation.
// +kubebuilder:validation:XValidation:rule="!has(self.interval) || (has(self.signIn) && self.signIn == 'Periodic')",message="validation.interval applies only with signIn: Periodic; OnChange signs in only when the credential, server or site changes"
// +kubebuilder:validation:XValidation:rule="!has(self.adminSecretRef) || !has(self.signIn) || self.signIn != 'Periodic'",message="validation.adminSecretRef reads the PAT's expiry without signing in, for signIn: OnChange; with Periodic the sign-in reports the expiry itself"
type ValidationSpec struct {
	// adminSecretRef is a Secret with a site administrator's personal access token (keys as in
	// auth.personalAccessToken.secretRef). With it the operator reads the connection PAT's
	// expiresAt through List Personal Access Tokens (Tableau Cloud, REST 3.21+) every 6h,
	// without signing in with the PAT consumers hold, so OnChange connections get expiry and
	// RotationDue too. This administrator's PAT must be used ONLY by the operator: each
	// sign-in with it ends every other session of that PAT.
	// +optional
	AdminSecretRef *PATSecretReference `json:"adminSecretRef,omitempty"`

	// signIn is OnChange (default) or Periodic.
	// +optional
	// +kubebuilder:default=OnChange
	SignIn SignInPolicy `json:"signIn,omitempty"`

	// interval between sign-ins with signIn: Periodic; at least 1h, default 24h. Each sign-in
	// ends every other session of the PAT.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1h')",message="validation.interval must be at least 1h: each sign-in ends every other session of the PAT"
	// +kubebuilder:validation:XValidation:rule="duration(self) <= duration('336h')",message="validation.interval must be at most 336h (14 days), or an unused PAT expires after 15 idle days between sign-ins"
	Interval *metav1.Duration `json:"interval,omitempty"`

	// serverCheckInterval is how often serverinfo (no credential) checks the server's REST API
	// version against the pin; default 10m, at least 1m. Connections to one server share the call.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1m')",message="validation.serverCheckInterval must be at least 1m"
	ServerCheckInterval *metav1.Duration `json:"serverCheckInterval,omitempty"`
}

// AuthSpec names how the operator signs in. Exactly one method is set.
// +kubebuilder:validation:XValidation:rule="has(self.personalAccessToken) || has(self.connectedApp)",message="auth needs a credential: set auth.personalAccessToken (a Secret with the token name and secret) or auth.connectedApp (a Secret with the client id, secret id and secret value)"
// +kubebuilder:validation:XValidation:rule="!(has(self.personalAccessToken) && has(self.connectedApp))",message="set exactly one of auth.personalAccessToken and auth.connectedApp"
type AuthSpec struct {
	// personalAccessToken signs in with a Tableau personal access token (PAT) held in a Secret.
	// +optional
	PersonalAccessToken *PersonalAccessTokenAuth `json:"personalAccessToken,omitempty"`

	// connectedApp signs in with a JWT signed by a connected app's (direct trust) secret.
	// Each JWT sign-in is its own session, so validating never ends a workload's session.
	// +optional
	ConnectedApp *ConnectedAppAuth `json:"connectedApp,omitempty"`
}

// ConnectedAppAuth names a connected app (direct trust), the user to sign in as, and the JWT scopes.
type ConnectedAppAuth struct {
	// secretRef is the Secret, in the connection's namespace, with the app's client id and
	// one of its secrets (id and value). It needs the tableau-operator.dev/credential: "true" label.
	// +required
	SecretRef ConnectedAppSecretReference `json:"secretRef"`

	// username is the Tableau user the JWT signs in as (its sub claim): on Tableau Cloud the
	// user's email address. Case-sensitive.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=255
	Username string `json:"username"`

	// scopes are the JWT's scp claim, each of the shape tableau:<resource>:<action>, for
	// example tableau:content:read or tableau:datasources:*. A REST method outside the scopes
	// answers 401002 even after a successful sign-in.
	// +required
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=32
	// +listType=set
	// +kubebuilder:validation:items:MaxLength=128
	// +kubebuilder:validation:XValidation:rule="self.all(s, s.matches('^tableau:[a-z][a-z0-9_]*:([a-z][a-z0-9_]*|[*])$'))",message="scopes must each look like tableau:<resource>:<action> in lower case, for example tableau:content:read or tableau:tasks:*"
	Scopes []string `json:"scopes"`
}

// ConnectedAppSecretReference names a Secret in the same namespace and the keys of the app's
// client id, secret id and secret value.
// +kubebuilder:validation:XValidation:rule="self.clientIdKey != self.secretIdKey && self.clientIdKey != self.secretValueKey && self.secretIdKey != self.secretValueKey",message="clientIdKey, secretIdKey and secretValueKey must name three different keys of the Secret"
type ConnectedAppSecretReference struct {
	// name of the Secret in the connection's namespace.
	// +required
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')",message="secretRef.name must be a Secret name: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit"
	Name string `json:"name"`

	// clientIdKey is the Secret key holding the connected app's client id.
	// +optional
	// +kubebuilder:default=clientId
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches('^[-._a-zA-Z0-9]+$')",message="clientIdKey must be a Secret data key: letters, digits, '-', '_' and '.' only"
	ClientIDKey string `json:"clientIdKey,omitempty"`

	// secretIdKey is the Secret key holding the id of the app's secret (the JWT's kid).
	// +optional
	// +kubebuilder:default=secretId
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches('^[-._a-zA-Z0-9]+$')",message="secretIdKey must be a Secret data key: letters, digits, '-', '_' and '.' only"
	SecretIDKey string `json:"secretIdKey,omitempty"`

	// secretValueKey is the Secret key holding the secret's value, which signs the JWT.
	// +optional
	// +kubebuilder:default=secretValue
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches('^[-._a-zA-Z0-9]+$')",message="secretValueKey must be a Secret data key: letters, digits, '-', '_' and '.' only"
	SecretValueKey string `json:"secretValueKey,omitempty"`
}

// PersonalAccessTokenAuth points at the Secret that holds a personal access token.
type PersonalAccessTokenAuth struct {
	// secretRef is the Secret, in the connection's namespace, with the token's name and secret.
	// +required
	SecretRef PATSecretReference `json:"secretRef"`
}

// PATSecretReference names a Secret in the same namespace and the keys of its token name and secret.
// +kubebuilder:validation:XValidation:rule="self.tokenNameKey != self.tokenSecretKey",message="tokenNameKey and tokenSecretKey must name two different keys of the Secret"
type PATSecretReference struct {
	// name of the Secret in the connection's namespace.
	// +required
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')",message="secretRef.name must be a Secret name: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit"
	Name string `json:"name"`

	// tokenNameKey is the Secret key holding the token's name.
	// +optional
	// +kubebuilder:default=tokenName
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches('^[-._a-zA-Z0-9]+$')",message="tokenNameKey must be a Secret data key: letters, digits, '-', '_' and '.' only"
	TokenNameKey string `json:"tokenNameKey,omitempty"`

	// tokenSecretKey is the Secret key holding the token's secret.
	// +optional
	// +kubebuilder:default=tokenSecret
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches('^[-._a-zA-Z0-9]+$')",message="tokenSecretKey must be a Secret data key: letters, digits, '-', '_' and '.' only"
	TokenSecretKey string `json:"tokenSecretKey,omitempty"`
}

// TLSSpec configures verification of the server's certificate.
type TLSSpec struct {
	// caBundle adds PEM CA certificates, from a ConfigMap or Secret key in the connection's
	// namespace, to the system roots. Use it for a private CA.
	// +optional
	CABundle *CABundleSource `json:"caBundle,omitempty"`
}

// CABundleSource names a key of a ConfigMap or Secret that holds PEM CA certificates.
type CABundleSource struct {
	// kind of the object that holds the bundle.
	// +required
	// +kubebuilder:validation:Enum=ConfigMap;Secret
	Kind string `json:"kind"`

	// name of the ConfigMap or Secret in the connection's namespace.
	// +required
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')",message="caBundle.name must be a ConfigMap or Secret name: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit"
	Name string `json:"name"`

	// key holding the PEM certificates.
	// +optional
	// +kubebuilder:default=ca.crt
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches('^[-._a-zA-Z0-9]+$')",message="caBundle.key must be a data key: letters, digits, '-', '_' and '.' only"
	Key string `json:"key,omitempty"`
}

// TableauConnectionStatus is what the operator last observed about the connection.
type TableauConnectionStatus struct {
	// observedGeneration is the metadata.generation the status was last computed for.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Ready (summary), Reconciling and Stalled (kstatus), SignedIn and
	// APIVersionSupported.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// lastFailure is the evidence of the most recent failure; cleared when sign-in works again.
	// +optional
	LastFailure *FailureStatus `json:"lastFailure,omitempty"`

	// server is what serverinfo last said.
	// +optional
	Server *ServerStatus `json:"server,omitempty"`

	// credentials describes the credential in the Secret, never its secret.
	// +optional
	Credentials *CredentialStatus `json:"credentials,omitempty"`

	// history holds the last 10 sign-in attempts, newest first: the audit trail.
	// +optional
	// +kubebuilder:validation:MaxItems=10
	History []ValidationAttempt `json:"history,omitempty"`

	// rotation is the state of credential rotation to the consumers.
	// +optional
	Rotation *RotationStatus `json:"rotation,omitempty"`

	// lastHandledRequest echoes the value of the tableau-operator.dev/requested-at annotation
	// the operator last acted on (a forced re-validation, or a retry of a failed rotation).
	// +optional
	LastHandledRequest string `json:"lastHandledRequest,omitempty"`

	// refusedWrite is the operator's last write of the rotation that the API server refused
	// (forbidden, over quota, invalid, or conflicting after retries), until a write goes
	// through again. The WritesAccepted condition reports it.
	// +optional
	RefusedWrite *RefusedWriteStatus `json:"refusedWrite,omitempty"`
	// callGate is the one clock of the connection's Tableau calls (validation, the
	// pre-promotion check, serverinfo and the administrator's calls): after a throttled,
	// unavailable or timed-out answer, or a delete Tableau acknowledged and still lists, no
	// call goes out before the times it records. Only a change of the spec, the Secret or
	// tableau-operator.dev/requested-at lets a call through earlier.
	// +optional
	CallGate *CallGateStatus `json:"callGate,omitempty"`

	// claim is which install of the operator acts on this connection. An install acts only
	// on a connection it claims; another that finds the claim live stands aside (no Tableau
	// call, no Secret write) and says so here and in the Claimed condition. A claim not
	// renewed for its duration may be taken over by any install.
	// +optional
	Claim *ClaimStatus `json:"claim,omitempty"`
}

// MaxInstallIDLength is the longest install identity (--install-id) status holds.
const MaxInstallIDLength = 253

// ClaimStatus is an install's claim on a connection, like a coordination.k8s.io Lease kept in
// status: taking it, renewing it and standing aside are written with the connection's
// resourceVersion as a precondition, so two installs never both believe they hold it.
type ClaimStatus struct {
	// holder is the install that acts on this connection (its --install-id).
	// +kubebuilder:validation:MaxLength=253
	Holder string `json:"holder"`
	// renewTime is when the holder last took or renewed the claim.
	RenewTime metav1.Time `json:"renewTime"`
	// durationSeconds is how long the claim lasts after renewTime; the holder renews it well
	// before. Past renewTime plus this, any install may take the connection over.
	// +kubebuilder:validation:Minimum=1
	DurationSeconds int32 `json:"durationSeconds"`
	// standingAside are the other installs that found the claim live and act on nothing
	// here, each with when it last looked.
	// +optional
	// +listType=map
	// +listMapKey=install
	// +kubebuilder:validation:MaxItems=8
	StandingAside []InstallSeen `json:"standingAside,omitempty"`
}

// InstallSeen is an install that stands aside, and when it last did.
type InstallSeen struct {
	// install is the install's --install-id.
	// +kubebuilder:validation:MaxLength=253
	Install string `json:"install"`
	// seenTime is when it last found the claim live.
	SeenTime metav1.Time `json:"seenTime"`
}

// Maximum lengths of CallGateStatus's and CallGateHold's strings, the values of their
// +kubebuilder:validation:MaxLength markers. A marker must be a literal number, so it says
// its constant's value again; TestMaxLengthsMatchCRD checks the generated CRD against the
// constants so the two cannot drift. The operator cuts what it writes with internal/bound to
// at most this many bytes, so also at most this many characters, which the API server counts.
const (
	MaxCallGateReasonLength   = 64
	MaxCallGateEndpointLength = 32
	MaxCallGateInputsLength   = 64
	MaxCallGateClassLength    = 32
)

// MaxSecretIDLength is the maximum length of a connected-app secret id in status
// (callGate.pendingDeleteSecretID and rotation.automatic's newSecretID, retiringSecretID and
// heldSecretIDs); Tableau's are 36-character LUIDs. TestMaxLengthsMatchCRD keeps the two equal
// (see MaxCallGateReasonLength).
const MaxSecretIDLength = 128

// CallGateStatus is the persisted state of a connection's call gate.
type CallGateStatus struct {
	// notBefore: no Tableau call of the connection goes out before this time.
	// +optional
	NotBefore *metav1.Time `json:"notBefore,omitempty"`
	// consecutiveFailures counts throttled, unavailable or timed-out answers in a row; the
	// backoff grows with it.
	// +optional
	ConsecutiveFailures int32 `json:"consecutiveFailures,omitempty"`
	// reason of the last hold, e.g. Throttled, ServerUnavailable or DeletePending.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	Reason string `json:"reason,omitempty"`
	// endpoint is the class of the call whose answer closed the gate last.
	// +optional
	// +kubebuilder:validation:MaxLength=32
	Endpoint string `json:"endpoint,omitempty"`
	// holds are times before which one class of calls waits (for instance the
	// administrator's calls while a deleted secret is still listed).
	// +optional
	// +listType=map
	// +listMapKey=class
	// +kubebuilder:validation:MaxItems=8
	Holds []CallGateHold `json:"holds,omitempty"`
	// pendingDeleteSecretID is a connected-app secret Tableau acknowledged deleting; it is
	// listed again only after the gate's backoff.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	PendingDeleteSecretID string `json:"pendingDeleteSecretID,omitempty"`
	// pendingChecks counts the listings that still showed the deleted secret.
	// +optional
	PendingChecks int32 `json:"pendingChecks,omitempty"`
	// inputs is a digest of the spec generation, the credential revision and the last
	// handled request the gate was closed under: when they change, the gate opens.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	Inputs string `json:"inputs,omitempty"`
}

// CallGateHold holds one class of calls until a time.
type CallGateHold struct {
	// class of calls: serverinfo, signin, check, admin.
	// +kubebuilder:validation:MaxLength=32
	Class string `json:"class"`
	// until is when the class may call again.
	Until metav1.Time `json:"until"`
}

// MaxRefusedWriteMessageLength is the maximum length of refusedWrite.message, the value of its
// +kubebuilder:validation:MaxLength marker. TestMaxLengthsMatchCRD keeps the two equal
// (see MaxCallGateReasonLength).
const MaxRefusedWriteMessageLength = 1024

// RefusedWriteStatus is a Kubernetes write the API server refused.
type RefusedWriteStatus struct {
	// reason is the API's reason: Forbidden, QuotaExceeded, Conflict, Invalid or WriteRefused.
	Reason string `json:"reason"`
	// verb, kind and name say which write: create, update, patch or delete of a Secret or a
	// restart target.
	Verb string `json:"verb"`
	Kind string `json:"kind"`
	// +optional
	Name string `json:"name,omitempty"`
	// message is what was refused and the next step, with the API server's message (bounded).
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message"`
	// time is when it was last refused; since when the refusals began.
	Time  metav1.Time `json:"time"`
	Since metav1.Time `json:"since"`
	// consecutive counts the refusals in a row.
	Consecutive int32 `json:"consecutive"`
}

// Rotation phases. Each is persisted in status before the action it names, so a restarted
// operator resumes (or rolls back) from where it stopped.
const (
	RotationIdle        = "Idle"
	RotationStaged      = "Staged"
	RotationPromoting   = "Promoting"
	RotationRestarting  = "Restarting"
	RotationGating      = "Gating"
	RotationCompleting  = "Completing"
	RotationRollingBack = "RollingBack"
	RotationFailed      = "Failed"
)

// RotationStatus is the rotation state machine.
type RotationStatus struct {
	// phase: Idle, Staged (validated, waiting for its turn), Promoting, Restarting, Gating,
	// Completing, RollingBack or Failed.
	Phase string `json:"phase"`
	// phaseSince is when the phase began.
	PhaseSince metav1.Time `json:"phaseSince"`
	// activeRevision is the revision in the consumer Secret.
	// +optional
	ActiveRevision string `json:"activeRevision,omitempty"`
	// activeEndpoint is a digest of the server, site and apiVersion the consumer bundle was
	// written for; a change of any of them is rolled out like a new credential.
	// +optional
	ActiveEndpoint string `json:"activeEndpoint,omitempty"`
	// activeSince is when the active revision reached the consumers.
	// +optional
	ActiveSince *metav1.Time `json:"activeSince,omitempty"`
	// candidateRevision is the validated revision waiting for or in promotion.
	// +optional
	CandidateRevision string `json:"candidateRevision,omitempty"`
	// +optional
	CandidateEndpoint string `json:"candidateEndpoint,omitempty"`
	// previousRevision is the revision kept for rollback during a rotation.
	// +optional
	PreviousRevision string `json:"previousRevision,omitempty"`
	// +optional
	PreviousEndpoint string `json:"previousEndpoint,omitempty"`
	// restartedAt is the value of the restart annotation of the last restart.
	// +optional
	RestartedAt string `json:"restartedAt,omitempty"`
	// failedRevision is a candidate whose rotation failed; it is not retried until the source
	// changes or a request annotation asks for it. It is the one record of a rejected candidate.
	// +optional
	FailedRevision string `json:"failedRevision,omitempty"`
	// +optional
	FailedEndpoint string `json:"failedEndpoint,omitempty"`
	// nextCheckTime is when the sign-in right before promotion is tried again after a
	// transient failure (throttling, server unavailable); the candidate is kept meanwhile.
	// +optional
	NextCheckTime *metav1.Time `json:"nextCheckTime,omitempty"`
	// checkFailures counts the consecutive transient failures of that sign-in.
	// +optional
	CheckFailures int32 `json:"checkFailures,omitempty"`
	// reason and message explain the last transition (why it failed, what rolled back).
	// +optional
	Reason string `json:"reason,omitempty"`
	// +optional
	Message string `json:"message,omitempty"`
	// activeExpiresAt is when the active revision's PAT expires, as Tableau reported at that
	// revision's last successful sign-in; it is carried over when a candidate becomes active
	// and kept while a newer credential in the source is validated, staged or failing.
	// +optional
	ActiveExpiresAt *metav1.Time `json:"activeExpiresAt,omitempty"`
	// lastCompletionTime is when the last rotation completed. A first delivery (no active
	// revision before) is not a rotation and does not set it.
	// +optional
	LastCompletionTime *metav1.Time `json:"lastCompletionTime,omitempty"`
	// dueTime is when the next rotation is due (maxAge or expiry, less renewBefore; with
	// rotation.automatic, activeSince plus every).
	// +optional
	DueTime *metav1.Time `json:"dueTime,omitempty"`
	// automatic is what the operator did on Tableau's side for rotation.automatic.
	// +optional
	Automatic *AutomaticRotationStatus `json:"automatic,omitempty"`
	// issuedSupersedes names the version (resourceVersion/uid) of the person's source Secret
	// that the operator's issued Secret superseded, and the secret id it names
	// (version#secretId; an id, never a value). While the person's Secret is that version or
	// names that secret id, the issued credential stays the source, also with
	// rotation.automatic switched off: the person's Secret names a secret the operator
	// retired. A new secret id in the person's Secret makes it the source again.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	IssuedSupersedes string `json:"issuedSupersedes,omitempty"`
}

// AutomaticRotationStatus records the connected-app secrets the operator creates and deletes
// on Tableau. Secret ids are not secret (they are the JWT's kid); values never appear here.
type AutomaticRotationStatus struct {
	// phase: Idle, Creating (the intent is recorded), RollingOut (the new secret goes through
	// the rotation like a new credential), Retiring (the old secret is deleted on Tableau),
	// Discarding (the rejected new secret is deleted on Tableau) or Stalled (the app holds two
	// secrets and neither is the operator's to drop: Tableau's error 128).
	// +optional
	Phase string `json:"phase,omitempty"`
	// creatingSince is persisted right before the operator asks Tableau for a new secret. A
	// secret's value is returned only by that call, so after a crash a secret on the app that
	// is neither the active one nor newSecretID was never given to anyone: the operator
	// deletes it before creating again.
	// +optional
	CreatingSince *metav1.Time `json:"creatingSince,omitempty"`
	// newSecretID is the secret the operator created for the rotation under way; its value is
	// only in the operator's staged Secret until the consumers get it.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	NewSecretID string `json:"newSecretID,omitempty"`
	// retiringSecretID is the secret deleted on Tableau once its successor passed the health
	// gate (or, on rollback, the new one that failed).
	// +optional
	// +kubebuilder:validation:MaxLength=128
	RetiringSecretID string `json:"retiringSecretID,omitempty"`
	// heldSecretIDs are the secrets the app held when the intent to create was recorded
	// (again right before each create call). Only a secret that appears after it can be the
	// orphan of a create call; one of these that no one the operator knows holds belongs to
	// someone else and is never deleted.
	// +optional
	// +kubebuilder:validation:MaxItems=8
	// +kubebuilder:validation:items:MaxLength=128
	HeldSecretIDs []string `json:"heldSecretIDs,omitempty"`
	// createSent is set right before the create call goes out, and cleared when its answer
	// proves Tableau created nothing (a refusal, throttling, or the call gate holding it
	// back). Only while it is set can a secret that appeared after heldSecretIDs be the
	// orphan of a create call; otherwise it is someone's (made in Tableau's UI meanwhile) and
	// is recorded as held again, never deleted.
	// +optional
	CreateSent bool `json:"createSent,omitempty"`
	// lastCreateTime is when the operator last created a secret on the app.
	// +optional
	LastCreateTime *metav1.Time `json:"lastCreateTime,omitempty"`
	// reason and message say what automatic rotation did last, or why it stopped.
	// +optional
	Reason string `json:"reason,omitempty"`
	// +optional
	Message string `json:"message,omitempty"`
	// consecutiveFailures counts the steps of the automatic rotation that failed in a row (a
	// Tableau call such as the admin sign-in, create or delete); 0 once a step succeeds. It
	// paces the retries of transient failures.
	// +optional
	ConsecutiveFailures int32 `json:"consecutiveFailures,omitempty"`
	// nextAttemptTime is when the failed step is tried again.
	// +optional
	NextAttemptTime *metav1.Time `json:"nextAttemptTime,omitempty"`
}

// FailureStatus is the evidence of a failure: what failed, how, and what to do.
type FailureStatus struct {
	// bucket is the failure class: AuthConfigDrift, APIVersionMismatch, RateOrQuotaLimit,
	// EndpointMisconfigured or ServerUnavailable.
	Bucket string `json:"bucket"`
	// reason is the CamelCase reason, as in the conditions.
	Reason string `json:"reason"`
	// stage is the step that failed: Credentials (the Secret or CA bundle), Server
	// (--allowed-servers, serverinfo and the version check) or SignIn.
	Stage string `json:"stage"`
	// generation and revision are the spec generation and credential revision the failure was
	// seen with: a change of either retries at once, whatever the backoff.
	Generation int64 `json:"generation"`
	// +optional
	Revision string `json:"revision,omitempty"`
	// message says what happened, with the evidence.
	Message string `json:"message,omitempty"`
	// +optional
	HTTPStatus int32 `json:"httpStatus,omitempty"`
	// +optional
	TableauCode string `json:"tableauCode,omitempty"`
	// +optional
	Summary string `json:"summary,omitempty"`
	// +optional
	Detail string `json:"detail,omitempty"`
	// +optional
	RequestID string `json:"requestID,omitempty"`
	// endpoint is the call that failed, e.g. "POST /api/3.24/auth/signin".
	// +optional
	Endpoint string `json:"endpoint,omitempty"`
	// time of the most recent failure.
	Time metav1.Time `json:"time"`
	// since is when the current run of failures began.
	Since metav1.Time `json:"since"`
	// consecutiveFailures counts the failures since the last success.
	ConsecutiveFailures int32 `json:"consecutiveFailures"`
	// nextStep is the one-line remediation.
	NextStep string `json:"nextStep,omitempty"`
	// nextAttemptTime is the earliest time the operator calls Tableau again for this
	// connection, unless the spec or the Secret changes first.
	// +optional
	NextAttemptTime *metav1.Time `json:"nextAttemptTime,omitempty"`
}

// ServerStatus is serverinfo's answer.
type ServerStatus struct {
	// +optional
	ProductVersion string `json:"productVersion,omitempty"`
	// +optional
	Build string `json:"build,omitempty"`
	// restApiVersion is the highest REST API version the server offers.
	// +optional
	RESTAPIVersion string `json:"restApiVersion,omitempty"`
	// checkedAt is when serverinfo last confirmed these values. To keep status writes low it is
	// refreshed when a value changes and otherwise at most hourly.
	CheckedAt metav1.Time `json:"checkedAt"`
}

// Maximum lengths of CredentialStatus's bounded strings, the values of their
// +kubebuilder:validation:MaxLength markers. TestMaxLengthsMatchCRD keeps the two equal
// (see MaxCallGateReasonLength).
const (
	MaxUserIDLength             = 64
	MaxExpiryCheckFailureLength = 1024
	MaxTokenNameLength          = 256
)

// CredentialStatus describes the credential without revealing it.
type CredentialStatus struct {
	// tokenName is the PAT's name (not its secret), shown once a sign-in with it succeeded:
	// a PAT's name has no shape of its own, and a Secret with its keys swapped would
	// otherwise put the secret here.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	TokenName string `json:"tokenName,omitempty"`
	// clientID and secretID name a connected app and the secret of it in use (the JWT's iss
	// and kid; neither is secret), shown once a sign-in with them succeeded or Tableau issued
	// them, or before when they have Tableau's shape (a UUID).
	// +optional
	// +kubebuilder:validation:MaxLength=128
	ClientID string `json:"clientID,omitempty"`
	// +optional
	// +kubebuilder:validation:MaxLength=128
	SecretID string `json:"secretID,omitempty"`
	// revision is a short, non-reversible digest of the token name and secret: it changes when
	// the credential changes.
	// +optional
	Revision string `json:"revision,omitempty"`
	// revisionChangedAt is when the operator saw the credential change from an earlier
	// revision to this one; unset for the first credential it saw.
	// +optional
	RevisionChangedAt *metav1.Time `json:"revisionChangedAt,omitempty"`
	// userID is the LUID of the PAT's owner, from the last successful sign-in (not secret).
	// +optional
	// +kubebuilder:validation:MaxLength=64
	UserID string `json:"userID,omitempty"`
	// expiryCheckedAt is when validation.adminSecretRef last read the PAT's expiry.
	// +optional
	ExpiryCheckedAt *metav1.Time `json:"expiryCheckedAt,omitempty"`
	// expiryCheckFailure says why the last expiry check through validation.adminSecretRef
	// failed or was refused (for example AdminPATInUse: the admin Secret holds the
	// connection's own PAT, and the operator never signs in with it); empty once it works.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	ExpiryCheckFailure string `json:"expiryCheckFailure,omitempty"`
	// lastSignInTime is the last successful sign-in by the operator.
	// +optional
	LastSignInTime *metav1.Time `json:"lastSignInTime,omitempty"`
	// expiresAt is the PAT's expiry from estimatedTimeToExpiration, when Tableau sends it.
	// +optional
	ExpiresAt *metav1.Time `json:"expiresAt,omitempty"`
	// lastAttemptRevision, lastAttemptServer and lastAttemptSite are the inputs of the last
	// sign-in attempt. A PAT holds one session, so with signIn: OnChange the operator signs in
	// again only when one of them changes (or tableau-operator.dev/requested-at asks): no
	// other spec edit ends the sessions of workloads using the PAT.
	// +optional
	LastAttemptRevision string `json:"lastAttemptRevision,omitempty"`
	// +optional
	LastAttemptServer string `json:"lastAttemptServer,omitempty"`
	// +optional
	LastAttemptSite *string `json:"lastAttemptSite,omitempty"`
	// lastAttemptResult is Succeeded or Failed: what the last sign-in said.
	// +optional
	LastAttemptResult string `json:"lastAttemptResult,omitempty"`
	// validatedBefore names the consumer Secret that showed this revision validated before:
	// a connection re-created (an Argo CD sync, a restore) over a retained consumer Secret
	// that the operator wrote with this revision and endpoint does not sign in with the PAT
	// consumers hold, which would end their sessions. Cleared by the next real sign-in.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	ValidatedBefore string `json:"validatedBefore,omitempty"`
	// sourceResourceVersion and sourceUID identify the version of the source Secret that
	// revision was computed from: while the Secret's metadata still shows them, the operator
	// (even a restarted one) reads none of the Secret's content.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	SourceResourceVersion string `json:"sourceResourceVersion,omitempty"`
	// +optional
	// +kubebuilder:validation:MaxLength=64
	SourceUID string `json:"sourceUID,omitempty"`
}

// Kinds of a ValidationAttempt.
const (
	// AttemptSignIn: a sign-in Tableau saw, validating the source's credential.
	AttemptSignIn = "SignIn"
	// AttemptCandidateCheck: a sign-in Tableau saw, with a staged candidate right before its
	// promotion.
	AttemptCandidateCheck = "CandidateCheck"
	// AttemptServerInfo: serverinfo failed or the pinned API version is above the server's;
	// no sign-in was made.
	AttemptServerInfo = "ServerInfo"
	// AttemptCredentials: the credential or its CA bundle could not be read; no call was made.
	AttemptCredentials = "Credentials"
)

// ValidationAttempt is one attempt: a sign-in, or a check that stopped before one.
type ValidationAttempt struct {
	Time metav1.Time `json:"time"`
	// kind is SignIn, CandidateCheck, ServerInfo or Credentials; only SignIn and
	// CandidateCheck are sign-ins Tableau saw. Empty (written before kinds) means SignIn.
	// +optional
	// +kubebuilder:validation:Enum=SignIn;CandidateCheck;ServerInfo;Credentials
	Kind string `json:"kind,omitempty"`
	// result is Succeeded or Failed.
	Result string `json:"result"`
	// +optional
	Bucket string `json:"bucket,omitempty"`
	// +optional
	Reason string `json:"reason,omitempty"`
	// +optional
	HTTPStatus int32 `json:"httpStatus,omitempty"`
	// +optional
	TableauCode string `json:"tableauCode,omitempty"`
	// +optional
	RequestID string `json:"requestID,omitempty"`
	// +optional
	LatencyMs int64 `json:"latencyMs,omitempty"`
	// revision of the credential that was tried.
	// +optional
	Revision string `json:"revision,omitempty"`
}

// TableauConnection keeps sign-in to one Tableau site healthy.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=tabconn,categories=tableau
// +kubebuilder:printcolumn:name="Site",type=string,JSONPath=`.spec.site`
// +kubebuilder:printcolumn:name="API",type=string,JSONPath=`.spec.apiVersion`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Bucket",type=string,JSONPath=`.status.lastFailure.bucket`
// +kubebuilder:printcolumn:name="Last Sign-In",type=date,JSONPath=`.status.credentials.lastSignInTime`
// +kubebuilder:printcolumn:name="Rotation",type=string,JSONPath=`.status.rotation.phase`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Server",type=string,priority=1,JSONPath=`.spec.server`
// +kubebuilder:printcolumn:name="Server API",type=string,priority=1,JSONPath=`.status.server.restApiVersion`
// +kubebuilder:printcolumn:name="Message",type=string,priority=1,JSONPath=`.status.conditions[?(@.type=="Ready")].message`
type TableauConnection struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec   TableauConnectionSpec   `json:"spec"`
	Status TableauConnectionStatus `json:"status,omitempty"`
}

// TableauConnectionList is a list of TableauConnections.
// +kubebuilder:object:root=true
type TableauConnectionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []TableauConnection `json:"items"`
}

func init() {
	SchemeBuilder.Register(&TableauConnection{}, &TableauConnectionList{})
}
