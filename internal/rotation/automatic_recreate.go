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

package rotation

import "strings"

// An automatic rotation retires the secret in the person's source Secret: the operator
// deletes it on Tableau once the issued one passed the gate. Which secret superseded which
// was recorded only in the connection's status, and the issued Secret is owned by the
// connection: an Argo CD prune and re-sync of the TableauConnection left the new object
// signing in with the person's (deleted) secret. The supersession is therefore also kept on
// the consumer Secret, which deletionPolicy Retain keeps: the operator created it, so it may
// annotate it, and a re-created connection adopts the record before any sign-in.

// Supersession is the record kept on the consumer Secret: the connected app's client id and
// the secret id of the person's Secret that the operator's issued secret superseded. Ids,
// never values.
type Supersession struct {
	ClientID string
	SecretID string
}

// String is the annotation's value.
func (s Supersession) String() string {
	if s.ClientID == "" || s.SecretID == "" {
		return ""
	}
	return s.ClientID + "#" + s.SecretID
}

// ParseSupersession reads the annotation's value; ok is false for anything else.
func ParseSupersession(v string) (Supersession, bool) {
	client, secret, found := strings.Cut(v, "#")
	if !found || client == "" || secret == "" || strings.Contains(secret, "#") {
		return Supersession{}, false
	}
	return Supersession{ClientID: client, SecretID: secret}, true
}

// Adopts reports whether a connection with no supersession of its own in status takes over
// the one recorded on the consumer Secret: only when the Secret carries the operator's mark
// for this connection (ours: the managed labels and the connection's name, in its namespace),
// the record names the same connected app, and the person's Secret still names the secret it
// superseded. Then the person's Secret names a secret the operator retired, and the consumer
// Secret's copy of the issued credential is the source. Anything else (a person's annotation
// on a Secret the operator did not create, another app, a new secret in the person's Secret)
// is ignored: the person's Secret is the source, as for any new connection.
func Adopts(ours bool, recorded string, clientID, sourceSecretID string) bool {
	s, ok := ParseSupersession(recorded)
	return ours && ok && clientID != "" && s.ClientID == clientID && s.SecretID == sourceSecretID
}
