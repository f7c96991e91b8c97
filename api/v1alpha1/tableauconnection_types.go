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
}

// AuthSpec names how the operator signs in. Exactly one method is set; personal access
// tokens are the only method of v1alpha1.
// +kubebuilder:validation:XValidation:rule="has(self.personalAccessToken)",message="auth.personalAccessToken is required: name the Secret that holds the token name and secret"
type AuthSpec struct {
	// personalAccessToken signs in with a Tableau personal access token (PAT) held in a Secret.
	// +optional
	PersonalAccessToken *PersonalAccessTokenAuth `json:"personalAccessToken,omitempty"`
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

	// conditions: Ready (summary), Reconciling and Stalled (kstatus), and the domain conditions.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// TableauConnection keeps sign-in to one Tableau site healthy.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=tabconn,categories=tableau
// +kubebuilder:printcolumn:name="Site",type=string,JSONPath=`.spec.site`
// +kubebuilder:printcolumn:name="API",type=string,JSONPath=`.spec.apiVersion`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Server",type=string,priority=1,JSONPath=`.spec.server`
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
