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

package tableausim

import (
	"fmt"
	"testing"
	"time"
)

// TestDeleteLagKeepsAnAcknowledgedSecretListed: with a delete lag, DELETE answers 204 and the
// secret stays listed (and counted) until the lag passed, then it is gone.
func TestDeleteLagKeepsAnAcknowledgedSecretListed(t *testing.T) {
	s, clock := newAppSim(t)
	s.SetDeleteLag(time.Minute)
	siteID := s.sites["acme"].id
	admin := signInRaw(t, s, `<tsRequest><credentials personalAccessTokenName="tok" personalAccessTokenSecret="sec"><site contentUrl="acme"/></credentials></tsRequest>`)
	secret := "/api/3.24/sites/" + siteID + "/connected-apps/direct-trust/" + testClient + "/secrets/" + testKid
	for i := 0; i < 2; i++ {
		if res, body := do(t, s, "DELETE", secret, "", "", "", "X-Tableau-Auth", admin); res.StatusCode != 204 {
			t.Fatalf("delete %d: %d %s", i, res.StatusCode, body)
		}
	}
	if ids, _ := s.ConnectedAppSecretIDs("acme", testClient); fmt.Sprint(ids) != "["+testKid+"]" {
		t.Fatalf("right after the delete: %v, want it still listed", ids)
	}
	clock.Advance(59 * time.Second)
	if ids, _ := s.ConnectedAppSecretIDs("acme", testClient); len(ids) != 1 {
		t.Fatalf("a repeated delete moved the lag: %v", ids)
	}
	clock.Advance(time.Second)
	if ids, _ := s.ConnectedAppSecretIDs("acme", testClient); len(ids) != 0 {
		t.Fatalf("after the lag: %v", ids)
	}
	if res, _ := do(t, s, "DELETE", secret, "", "", "", "X-Tableau-Auth", admin); res.StatusCode != 404 {
		t.Fatalf("deleting it again: %d, want 404", res.StatusCode)
	}
}
