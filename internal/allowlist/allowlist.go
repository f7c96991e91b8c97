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

// Package allowlist decides which Tableau hosts the operator may send a credential to
// (--allowed-servers). A pattern is a host name, an IP address, or "*." followed by a host
// name, which matches exactly one more label: "*.online.tableau.com" matches
// "10ay.online.tableau.com" but neither "online.tableau.com" nor "a.b.online.tableau.com",
// as a TLS wildcard certificate would. Ports are not part of a pattern.
package allowlist

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// List is a parsed --allowed-servers. The zero List allows every server.
type List struct {
	patterns []string
}

// Parse reads comma-separated host patterns. An empty string allows every server.
func Parse(csv string) (List, error) {
	var l List
	for _, p := range strings.Split(csv, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		norm, err := parsePattern(p)
		if err != nil {
			return List{}, err
		}
		l.patterns = append(l.patterns, norm)
	}
	return l, nil
}

func parsePattern(p string) (string, error) {
	host := strings.TrimSuffix(strings.ToLower(p), ".")
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.String(), nil
	}
	name := strings.TrimPrefix(host, "*.")
	if !validHostName(name) || strings.Contains(name, "*") {
		return "", fmt.Errorf("--allowed-servers: %q is not a host pattern: use a host name (tableau.example.com), an IP address, or *. and a host name (*.online.tableau.com), without scheme, port or path", p)
	}
	return host, nil
}

// validHostName accepts DNS names of letters, digits, hyphens and dots.
func validHostName(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// Any reports whether the list allows every server.
func (l List) Any() bool { return len(l.patterns) == 0 }

// Allows reports whether the operator may send a credential to server (spec.server, a URL),
// and returns the host it judged. A server that does not parse is not allowed.
func (l List) Allows(server string) (host string, ok bool) {
	u, err := url.Parse(server)
	if err != nil || u.Host == "" {
		return "", l.Any()
	}
	host = strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if l.Any() {
		return host, true
	}
	if ip := net.ParseIP(host); ip != nil {
		host = ip.String()
	}
	for _, p := range l.patterns {
		if p == host {
			return host, true
		}
		if suffix, wild := strings.CutPrefix(p, "*."); wild {
			first, rest, found := strings.Cut(host, ".")
			if found && first != "" && rest == suffix {
				return host, true
			}
		}
	}
	return host, false
}

// String lists the patterns, comma-separated, as --allowed-servers takes them.
func (l List) String() string { return strings.Join(l.patterns, ",") }
