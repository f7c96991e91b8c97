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

package tableau

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"strings"
)

// Wire shapes of the site-administrator methods (admin.go). XML element and attribute names come
// from Tableau's XSD (connectedApplicationType holds at most two secret elements;
// connectedApplicationSecretType has id, value, createdAt) and the List Personal Access Tokens
// reference (personalAccessTokens/personalAccessToken@tokenName, tokenGuid, lastUsedAt,
// expiresAt). For JSON, Tableau renders a repeated element as an array; where the reference
// does not show the JSON shape (the secrets of a connected app), one object or an array is read.

type wireSecret struct{ ID, Value, CreatedAt string }

type wirePAT struct{ Name, GUID, LastUsedAt, ExpiresAt string }

type xmlSecret struct {
	ID        string `xml:"id,attr" json:"id"`
	Value     string `xml:"value,attr" json:"value"`
	CreatedAt string `xml:"createdAt,attr" json:"createdAt"`
}

type xmlPAT struct {
	Name       string `xml:"tokenName,attr" json:"tokenName"`
	GUID       string `xml:"tokenGuid,attr" json:"tokenGuid"`
	LastUsedAt string `xml:"lastUsedAt,attr" json:"lastUsedAt"`
	ExpiresAt  string `xml:"expiresAt,attr" json:"expiresAt"`
}

type xmlAdminResponse struct {
	XMLName                    xml.Name   `xml:"tsResponse"`
	ConnectedApplicationSecret *xmlSecret `xml:"connectedApplicationSecret"`
	ConnectedApplication       *struct {
		ClientID string      `xml:"clientId,attr"`
		Secrets  []xmlSecret `xml:"secret"`
	} `xml:"connectedApplication"`
	PersonalAccessTokens *struct {
		Tokens []xmlPAT `xml:"personalAccessToken"`
	} `xml:"personalAccessTokens"`
	User *xmlUser `xml:"user"`
}

type xmlUser struct {
	ID       string `xml:"id,attr" json:"id"`
	Name     string `xml:"name,attr" json:"name"`
	SiteRole string `xml:"siteRole,attr" json:"siteRole"`
}

type jsonAdminResponse struct {
	ConnectedApplicationSecret *xmlSecret `json:"connectedApplicationSecret"`
	ConnectedApplication       *struct {
		ClientID string          `json:"clientId"`
		Secret   json.RawMessage `json:"secret"`
	} `json:"connectedApplication"`
	PersonalAccessTokens json.RawMessage `json:"personalAccessTokens"`
	User                 *xmlUser        `json:"user"`
}

// errNoElement says the body is Tableau's but lacks the element the method returns. The decoding
// errors never carry text of the body: it may hold a secret value.
var errNoElement = errors.New("no such element")

func (d decoded) admin() (xmlAdminResponse, jsonAdminResponse, error) {
	var x xmlAdminResponse
	var j jsonAdminResponse
	switch d.kind {
	case BodyTableauXML:
		if xml.Unmarshal(d.raw, &x) != nil {
			return x, j, errors.New("the tsResponse does not parse")
		}
	case BodyTableauJSON:
		if json.Unmarshal(d.raw, &j) != nil {
			return x, j, errors.New("the JSON answer does not parse")
		}
	default:
		return x, j, errNoElement
	}
	return x, j, nil
}

func (d decoded) connectedAppSecret() (wireSecret, error) {
	x, j, err := d.admin()
	if err != nil {
		return wireSecret{}, err
	}
	s := x.ConnectedApplicationSecret
	if d.kind == BodyTableauJSON {
		s = j.ConnectedApplicationSecret
	}
	if s == nil || s.ID == "" {
		return wireSecret{}, errNoElement
	}
	return wireSecret{ID: strings.TrimSpace(s.ID), Value: s.Value, CreatedAt: strings.TrimSpace(s.CreatedAt)}, nil
}

func (d decoded) connectedAppSecrets() ([]wireSecret, error) {
	x, j, err := d.admin()
	if err != nil {
		return nil, err
	}
	var list []xmlSecret
	switch {
	case d.kind == BodyTableauXML && x.ConnectedApplication != nil:
		list = x.ConnectedApplication.Secrets
	case d.kind == BodyTableauJSON && j.ConnectedApplication != nil:
		if list, err = oneOrMany[xmlSecret](j.ConnectedApplication.Secret); err != nil {
			return nil, err
		}
	default:
		return nil, errNoElement
	}
	out := make([]wireSecret, 0, len(list))
	for _, s := range list {
		if s.ID != "" {
			out = append(out, wireSecret{ID: strings.TrimSpace(s.ID), CreatedAt: strings.TrimSpace(s.CreatedAt)})
		}
	}
	return out, nil
}

func (d decoded) personalAccessTokens() ([]wirePAT, error) {
	x, j, err := d.admin()
	if err != nil {
		return nil, err
	}
	var list []xmlPAT
	switch {
	case d.kind == BodyTableauXML && x.PersonalAccessTokens != nil:
		list = x.PersonalAccessTokens.Tokens
	case d.kind == BodyTableauJSON && len(j.PersonalAccessTokens) > 0:
		// The reference shows an array; an object wrapping personalAccessToken is read too.
		raw := bytes.TrimSpace(j.PersonalAccessTokens)
		if len(raw) > 0 && raw[0] == '{' {
			var wrapped struct {
				Token json.RawMessage `json:"personalAccessToken"`
			}
			if json.Unmarshal(raw, &wrapped) != nil {
				return nil, errors.New("personalAccessTokens does not parse")
			}
			raw = wrapped.Token
		}
		if list, err = oneOrMany[xmlPAT](raw); err != nil {
			return nil, err
		}
	default:
		return nil, errNoElement
	}
	out := make([]wirePAT, 0, len(list))
	for _, p := range list {
		out = append(out, wirePAT{Name: strings.TrimSpace(p.Name), GUID: strings.TrimSpace(p.GUID),
			LastUsedAt: strings.TrimSpace(p.LastUsedAt), ExpiresAt: strings.TrimSpace(p.ExpiresAt)})
	}
	return out, nil
}

// oneOrMany reads a JSON array of T, one T, or nothing (absent or null).
func oneOrMany[T any](raw json.RawMessage) ([]T, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	if raw[0] == '[' {
		var list []T
		if json.Unmarshal(raw, &list) != nil {
			return nil, errors.New("a list does not parse")
		}
		return list, nil
	}
	var one T
	if json.Unmarshal(raw, &one) != nil {
		return nil, errors.New("an element does not parse")
	}
	return []T{one}, nil
}

func (d decoded) user() (xmlUser, error) {
	x, j, err := d.admin()
	if err != nil {
		return xmlUser{}, err
	}
	u := x.User
	if d.kind == BodyTableauJSON {
		u = j.User
	}
	if u == nil || u.ID == "" {
		return xmlUser{}, errNoElement
	}
	return xmlUser{ID: strings.TrimSpace(u.ID), Name: strings.TrimSpace(u.Name), SiteRole: strings.TrimSpace(u.SiteRole)}, nil
}
