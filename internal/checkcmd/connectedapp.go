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

package checkcmd

import (
	"flag"
	"strings"

	"github.com/tableau-operator/tableau-operator/internal/tableau"
)

// AppSecretEnv is the environment variable that may hold the connected app's secret value.
const AppSecretEnv = "TABLEAU_CONNECTED_APP_SECRET"

// Report.Auth values.
const (
	authPAT          = "PersonalAccessToken"
	authConnectedApp = "ConnectedApp"
)

// appOptions are the flags of `check --connected-app`.
type appOptions struct {
	enabled                                         bool
	clientID, secretID, username, scopes, valueFile string
}

func (a *appOptions) register(fs *flag.FlagSet) {
	fs.BoolVar(&a.enabled, "connected-app", false, "sign in with a connected app's JWT (direct trust) instead of a PAT; it ends no other session")
	fs.StringVar(&a.clientID, "client-id", "", "the connected app's client id (with --connected-app)")
	fs.StringVar(&a.secretID, "secret-id", "", "the id of the connected app's secret, sent as the JWT's kid (with --connected-app)")
	fs.StringVar(&a.username, "username", "", "the Tableau user to sign in as, case-sensitive (with --connected-app)")
	fs.StringVar(&a.scopes, "scopes", "", "comma-separated JWT scopes, e.g. tableau:content:read (with --connected-app)")
	fs.StringVar(&a.valueFile, "secret-value-file", "", "file holding the secret's value; or set "+AppSecretEnv+" (never a flag value)")
}

func (a *appOptions) required() []struct{ name, value string } {
	return []struct{ name, value string }{{"--client-id", a.clientID}, {"--secret-id", a.secretID},
		{"--username", a.username}, {"--scopes", a.scopes}}
}

// credential reads the secret value and checks the whole credential, scopes included, before
// any call.
func (a *appOptions) credential(getenv func(string) string) (tableau.ConnectedApp, error) {
	value, err := readSecret(a.valueFile, "--secret-value-file", AppSecretEnv, "connected-app secret value", getenv)
	if err != nil {
		return tableau.ConnectedApp{}, err
	}
	var scopes []string
	for _, s := range strings.Split(a.scopes, ",") {
		if s = strings.TrimSpace(s); s != "" {
			scopes = append(scopes, s)
		}
	}
	app := tableau.ConnectedApp{ClientID: a.clientID, SecretID: a.secretID, SecretValue: tableau.NewSecret(value),
		Username: a.username, Scopes: scopes}
	if err := app.Validate(); err != nil {
		return tableau.ConnectedApp{}, err
	}
	return app, nil
}
