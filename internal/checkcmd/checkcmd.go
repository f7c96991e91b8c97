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

// Package checkcmd is `tableau-operator check`: a one-shot diagnosis of one Tableau sign-in
// (serverinfo, sign-in, sign-out, verdict) that an on-call engineer runs instead of curl, with a
// personal access token or, with --connected-app, a connected app's JWT.
package checkcmd

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/tableau-operator/tableau-operator/internal/backoff"
	"github.com/tableau-operator/tableau-operator/internal/classify"
	"github.com/tableau-operator/tableau-operator/internal/tableau"
)

// Exit codes.
const (
	ExitOK     = 0
	ExitFailed = 1
	ExitUsage  = 2
)

// SecretEnv is the environment variable that may hold the PAT secret.
const SecretEnv = "TABLEAU_PAT_SECRET"

// Report is the JSON output: one object. Auth is PersonalAccessToken or ConnectedApp.
type Report struct {
	OK               bool     `json:"ok"`
	Bucket           string   `json:"bucket"`
	Reason           string   `json:"reason"`
	Message          string   `json:"message"`
	HTTPStatus       int      `json:"httpStatus"`
	TableauCode      string   `json:"tableauCode"`
	Summary          string   `json:"summary"`
	Detail           string   `json:"detail"`
	RequestID        string   `json:"requestID"`
	Endpoint         string   `json:"endpoint"`
	ServerAPIVersion string   `json:"serverAPIVersion"`
	ProductVersion   string   `json:"productVersion"`
	Build            string   `json:"build"`
	Remediation      string   `json:"remediation"`
	LatencyMs        int64    `json:"latencyMs"`
	Server           string   `json:"server"`
	Site             string   `json:"site"`
	APIVersion       string   `json:"apiVersion"`
	TokenName        string   `json:"tokenName"`
	PATExpiresAt     string   `json:"patExpiresAt,omitempty"`
	Warnings         []string `json:"warnings,omitempty"`
	Auth             string   `json:"auth"`
	ClientID         string   `json:"clientId,omitempty"`
	SecretID         string   `json:"secretId,omitempty"`
	Username         string   `json:"username,omitempty"`
}

type options struct {
	server, site, apiVersion, tokenName, secretFile, caFile, output string
	timeout                                                         time.Duration
	app                                                             appOptions
}

// credential is what signs in: a PAT, or a connected app when pat is nil.
type credential struct {
	pat *tableau.PersonalAccessToken
	app *tableau.ConnectedApp
}

// Run runs the command with args (after "check") and returns the exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	opts, cred, caPEM, err := parse(args, stderr, getenv)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "check: %v\nRun `tableau-operator check -h` for the flags.\n", err)
		}
		return ExitUsage
	}
	client, err := tableau.New(tableau.Options{Server: opts.server, APIVersion: opts.apiVersion, CACertPEM: caPEM,
		Timeout: opts.timeout, UserAgent: "tableau-operator-check"})
	if err != nil {
		fmt.Fprintf(stderr, "check: %v\n", err)
		return ExitUsage
	}
	rep := diagnose(ctx, client, opts, cred, stderr)
	if opts.output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
	} else {
		writeText(stdout, rep)
	}
	if rep.OK {
		return ExitOK
	}
	return ExitFailed
}

func parse(args []string, stderr io.Writer, getenv func(string) string) (options, credential, []byte, error) {
	var o options
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.server, "server", "", "Tableau Server URL or Tableau Cloud pod URL, e.g. https://10ay.online.tableau.com (required)")
	fs.StringVar(&o.site, "site", "", "site contentUrl; empty for the default site of Tableau Server")
	fs.StringVar(&o.apiVersion, "api-version", "", "pinned REST API version, e.g. 3.24 (required)")
	fs.StringVar(&o.tokenName, "token-name", "", "the PAT's name (required without --connected-app)")
	fs.StringVar(&o.secretFile, "token-secret-file", "", "file holding the PAT's secret; or set "+SecretEnv+" (never a flag value)")
	fs.StringVar(&o.caFile, "ca-file", "", "PEM CA certificates to trust besides the system roots")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "timeout of each call")
	fs.StringVar(&o.output, "output", "text", "text or json")
	o.app.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: tableau-operator check --server URL --api-version V --token-name NAME [--site SITE] (--token-secret-file FILE | "+SecretEnv+"=...)")
		fmt.Fprintln(stderr, "   or: tableau-operator check --connected-app --server URL --api-version V --client-id ID --secret-id ID --username USER --scopes S1,S2 [--site SITE] (--secret-value-file FILE | "+AppSecretEnv+"=...)")
		fmt.Fprintln(stderr, "Runs serverinfo, a sign-in and sign-out, then prints a verdict. Exit 0: sign-in works; 1: it fails; 2: usage error.")
		fs.PrintDefaults()
	}
	for _, a := range args {
		name := strings.TrimLeft(strings.SplitN(a, "=", 2)[0], "-")
		switch name {
		case "token-secret", "secret", "token-value", "secret-value", "client-secret", "jwt":
			return o, credential{}, nil, errors.New("a secret is never a flag value (it would show in the process list and shell history): use --token-secret-file or " + SecretEnv + ", or --secret-value-file or " + AppSecretEnv)
		}
	}
	if err := fs.Parse(args); err != nil {
		return o, credential{}, nil, err
	}
	if fs.NArg() > 0 {
		return o, credential{}, nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	required := []struct{ name, value string }{{"--server", o.server}, {"--api-version", o.apiVersion}}
	if o.app.enabled {
		required = append(required, o.app.required()...)
	} else {
		required = append(required, struct{ name, value string }{"--token-name", o.tokenName})
	}
	var missing []string
	for _, f := range required {
		if f.value == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return o, credential{}, nil, fmt.Errorf("missing %s", strings.Join(missing, ", "))
	}
	if o.output != "text" && o.output != "json" {
		return o, credential{}, nil, fmt.Errorf("--output must be text or json, not %q", o.output)
	}
	if o.timeout <= 0 {
		return o, credential{}, nil, errors.New("--timeout must be positive")
	}
	var cred credential
	if o.app.enabled {
		app, err := o.app.credential(getenv)
		if err != nil {
			return o, credential{}, nil, err
		}
		cred.app = &app
	} else {
		secret, err := readSecret(o.secretFile, "--token-secret-file", SecretEnv, "PAT secret", getenv)
		if err != nil {
			return o, credential{}, nil, err
		}
		cred.pat = &tableau.PersonalAccessToken{Name: o.tokenName, Secret: tableau.NewSecret(secret)}
	}
	var caPEM []byte
	if o.caFile != "" {
		var err error
		if caPEM, err = os.ReadFile(o.caFile); err != nil {
			return o, credential{}, nil, fmt.Errorf("reading --ca-file: %w", err)
		}
	}
	return o, cred, caPEM, nil
}

// readSecret reads a credential from a file or, failing that, an environment variable.
func readSecret(file, fileFlag, env, what string, getenv func(string) string) (string, error) {
	var secret string
	switch {
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("reading %s: %w", fileFlag, err)
		}
		// Files written by editors and `echo` end with a newline that is not part of the secret.
		secret = strings.TrimRight(string(b), "\r\n")
	case getenv(env) != "":
		secret = getenv(env)
	default:
		return "", fmt.Errorf("no %s: use %s FILE or set %s", what, fileFlag, env)
	}
	if strings.TrimSpace(secret) == "" {
		return "", fmt.Errorf("the %s is empty", what)
	}
	return secret, nil
}

// retryable is the shared policy's view of a failure: transient buckets retry.
func retryable(err error) (bool, time.Duration) {
	v, ok := classify.Failure(err, classify.Evidence{})
	if !ok || !v.Bucket.Transient() {
		return false, 0
	}
	if te, ok := tableau.AsError(err); ok {
		return true, te.RetryAfter
	}
	return true, 0
}

func diagnose(ctx context.Context, c *tableau.Client, o options, cred credential, stderr io.Writer) Report {
	rep := Report{Server: o.server, Site: o.site, APIVersion: o.apiVersion, Auth: authPAT}
	signIn := func(ctx context.Context) (*tableau.Session, error) { return c.SignInWithPAT(ctx, o.site, *cred.pat) }
	who := ""
	if cred.app != nil {
		rep.Auth, rep.ClientID, rep.SecretID, rep.Username = authConnectedApp, cred.app.ClientID, cred.app.SecretID, cred.app.Username
		signIn = func(ctx context.Context) (*tableau.Session, error) {
			return c.SignInWithConnectedApp(ctx, o.site, *cred.app)
		}
		who = fmt.Sprintf("%q through connected app %s", cred.app.Username, cred.app.ClientID)
	} else {
		rep.TokenName = cred.pat.Name
		who = fmt.Sprintf("PAT %q", cred.pat.Name)
	}
	policy := backoff.Default
	retrying := func(err error) (bool, time.Duration) {
		ok, after := retryable(err)
		if ok {
			fmt.Fprintf(stderr, "transient failure, retrying: %v\n", err)
		}
		return ok, after
	}

	var info *tableau.ServerInfo
	err := policy.Do(ctx, func(ctx context.Context) error {
		var err error
		info, err = c.ServerInfo(ctx)
		return err
	}, retrying)
	if err != nil {
		return failed(rep, err)
	}
	rep.ServerAPIVersion, rep.ProductVersion, rep.Build = info.RESTAPIVersion, info.ProductVersion, info.Build
	rep.RequestID, rep.LatencyMs = info.RequestID, info.Latency.Milliseconds()
	if v, drift := classify.Versions(o.apiVersion, info.RESTAPIVersion); drift {
		// Signing in at this version would only fail with 404001 (and end a PAT's other session).
		rep.Bucket, rep.Reason, rep.Message, rep.Remediation = string(v.Bucket), v.Reason, forShell(v.Message), forShell(v.NextStep)
		rep.Endpoint = "GET /api/" + tableau.ServerInfoAPIVersion + "/serverinfo"
		return rep
	}

	// Warn only now that the sign-in is sure to be tried: a server that is down or on an older
	// version never gets one, and ends nobody's session.
	if cred.pat != nil {
		fmt.Fprintf(stderr, "warning: signing in with PAT %q ends every other session of that PAT (Tableau allows one session per PAT); a workload using it will get 401002 on its next call.\n", cred.pat.Name)
	} else {
		fmt.Fprintf(stderr, "note: a connected-app sign-in mints a fresh JWT and opens a session of its own; it ends no other session.\n")
	}
	var sess *tableau.Session
	err = policy.Do(ctx, func(ctx context.Context) error {
		var err error
		sess, err = signIn(ctx)
		return err
	}, retrying)
	if err != nil {
		return failed(rep, err)
	}
	rep.OK = true
	rep.Reason = "SignedIn"
	rep.Endpoint = "POST /api/" + o.apiVersion + "/auth/signin"
	rep.RequestID, rep.LatencyMs = sess.RequestID, sess.Latency.Milliseconds()
	rep.Message = fmt.Sprintf("Signed in to site %q as %s at REST API %s; the server offers up to %s.", o.site, who, o.apiVersion, info.RESTAPIVersion)
	rep.Remediation = "Nothing to do."
	if sess.PATExpiryKnown {
		rep.PATExpiresAt = time.Now().Add(sess.PATExpiresIn).UTC().Format(time.RFC3339)
		if sess.PATExpiresIn < 14*24*time.Hour {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("the PAT expires in %.1f days: create its successor now", sess.PATExpiresIn.Hours()/24))
		}
	}
	if err := c.SignOut(ctx, sess); err != nil {
		rep.Warnings = append(rep.Warnings, "sign-out failed, the session stays open until Tableau expires it: "+err.Error())
	}
	return rep
}

func failed(rep Report, err error) Report {
	v, _ := classify.Failure(err, classify.Evidence{Now: time.Now(), Site: rep.Site, ConnectedApp: rep.Auth == authConnectedApp})
	rep.Bucket, rep.Reason, rep.Message, rep.Remediation = string(v.Bucket), v.Reason, forShell(v.Message), forShell(v.NextStep)
	if te, ok := tableau.AsError(err); ok {
		rep.HTTPStatus, rep.TableauCode, rep.Summary, rep.Detail = te.HTTPStatus, te.Code, te.Summary, te.Detail
		rep.RequestID, rep.Endpoint, rep.LatencyMs = te.RequestID, te.Endpoint, te.Latency.Milliseconds()
	}
	return rep
}

func writeText(w io.Writer, r Report) {
	if r.OK {
		fmt.Fprintf(w, "OK: sign-in works. %s\n", r.Message)
	} else {
		fmt.Fprintf(w, "FAILED: %s (%s)\n%s\n", r.Bucket, r.Reason, r.Message)
	}
	fmt.Fprintf(w, "Next step: %s\n", r.Remediation)
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "Warning: %s\n", warn)
	}
	fmt.Fprintln(w, "\nEvidence:")
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "  %-13s %s\n", k, v)
		}
	}
	row("server", r.Server)
	site := r.Site
	if site == "" {
		site = `"" (default site)`
	}
	row("site", site)
	row("token name", r.TokenName)
	row("client id", r.ClientID)
	row("secret id", r.SecretID)
	row("username", r.Username)
	row("API pinned", r.APIVersion)
	if r.ServerAPIVersion != "" {
		row("Tableau", fmt.Sprintf("%s (build %s), REST API up to %s", r.ProductVersion, r.Build, r.ServerAPIVersion))
	}
	row("endpoint", r.Endpoint)
	if r.HTTPStatus != 0 {
		row("HTTP status", fmt.Sprint(r.HTTPStatus))
	}
	row("Tableau code", r.TableauCode)
	row("summary", r.Summary)
	row("detail", r.Detail)
	row("request id", r.RequestID)
	row("PAT expires", r.PATExpiresAt)
	row("latency", fmt.Sprintf("%d ms", r.LatencyMs))
}
