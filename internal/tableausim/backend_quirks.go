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
	"net/http"
	"strings"
	"time"
)

// SetDeleteLag makes an acknowledged connected-app secret delete take effect only lag later:
// DELETE answers 204 at once and the secret is still listed (and still counts toward the
// limit) until then, as an eventually consistent backend may. Zero deletes at once.
func (s *Simulator) SetDeleteLag(lag time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deleteLag = lag
}

// purge removes the secrets whose acknowledged delete has taken effect.
func (a *connectedApp) purge(now time.Time) {
	kept := a.secrets[:0]
	for _, sec := range a.secrets {
		if sec.deleteAt.IsZero() || now.Before(sec.deleteAt) {
			kept = append(kept, sec)
		}
	}
	a.secrets = kept
}

// oversized writes FaultOversized's answer: one field of f.Size bytes.
func oversized(w http.ResponseWriter, out *writer, f *Fault) {
	status := f.Status
	if status == 0 {
		status = http.StatusUnauthorized
	}
	big := strings.Repeat("9", max(f.Size, 1))
	code, summary, detail := "401001", "Signin Error", "Error signing in to Tableau Server"
	switch f.Field {
	case "code":
		code = big
	case "summary":
		summary = strings.Repeat("s", len(big))
	case "detail":
		detail = strings.Repeat("d", len(big))
	case "requestId":
		w.Header().Set("X-Request-Id", strings.Repeat("r", len(big)))
	case "title":
		htmlPage(w, status, strings.Repeat("t", len(big)), "oversized")
		return
	}
	out.error(status, code, summary, detail)
}
