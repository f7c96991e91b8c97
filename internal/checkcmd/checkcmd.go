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
// (serverinfo, sign-in, sign-out, verdict) that an on-call engineer runs instead of curl.
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

// Report is the JSON output: one object.
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
}

type options struct {
	server, site, apiVersion, tokenName, secretFile, caFile, output string
	timeout                                                         time.Duration
}

// Run runs the command with args (after "check") and returns the exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	opts, pat, caPEM, err := parse(args, stderr, getenv)
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
	fmt.Fprintf(stderr, "warning: signing in with PAT %q ends every other session of that PAT (Tableau allows one session per PAT); a workload using it will get 401002 on its next call.\n", pat.Name)

	rep := diagnose(ctx, client, opts, pat, stderr)
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

func parse(args []string, stderr io.Writer, getenv func(string) string) (options, tableau.PersonalAccessToken, []byte, error) {
	var o options
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.server, "server", "", "Tableau Server URL or Tableau Cloud pod URL, e.g. https://10ay.online.tableau.com (required)")
	fs.StringVar(&o.site, "site", "", "site contentUrl; empty for the default site of Tableau Server")
	fs.StringVar(&o.apiVersion, "api-version", "", "pinned REST API version, e.g. 3.24 (required)")
	fs.StringVar(&o.tokenName, "token-name", "", "the PAT's name (required)")
	fs.StringVar(&o.secretFile, "token-secret-file", "", "file holding the PAT's secret; or set "+SecretEnv+" (never a flag value)")
	fs.StringVar(&o.caFile, "ca-file", "", "PEM CA certificates to trust besides the system roots")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "timeout of each call")
	fs.StringVar(&o.output, "output", "text", "text or json")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: tableau-operator check --server URL --api-version V --token-name NAME [--site SITE] (--token-secret-file FILE | "+SecretEnv+"=...)")
		fmt.Fprintln(stderr, "Runs serverinfo, a PAT sign-in and sign-out, then prints a verdict. Exit 0: sign-in works; 1: it fails; 2: usage error.")
		fs.PrintDefaults()
	}
	for _, a := range args {
		name := strings.TrimLeft(strings.SplitN(a, "=", 2)[0], "-")
		if name == "token-secret" || name == "secret" || name == "token-value" {
			return o, tableau.PersonalAccessToken{}, nil, errors.New("the PAT secret is never a flag value (it would show in the process list and shell history): use --token-secret-file or " + SecretEnv)
		}
	}
	if err := fs.Parse(args); err != nil {
		return o, tableau.PersonalAccessToken{}, nil, err
	}
	if fs.NArg() > 0 {
		return o, tableau.PersonalAccessToken{}, nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var missing []string
	for _, f := range []struct{ name, value string }{{"--server", o.server}, {"--api-version", o.apiVersion}, {"--token-name", o.tokenName}} {
		if f.value == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return o, tableau.PersonalAccessToken{}, nil, fmt.Errorf("missing %s", strings.Join(missing, ", "))
	}
	if o.output != "text" && o.output != "json" {
		return o, tableau.PersonalAccessToken{}, nil, fmt.Errorf("--output must be text or json, not %q", o.output)
	}
	if o.timeout <= 0 {
		return o, tableau.PersonalAccessToken{}, nil, errors.New("--timeout must be positive")
	}
	secret, err := readSecret(o.secretFile, getenv)
	if err != nil {
		return o, tableau.PersonalAccessToken{}, nil, err
	}
	var caPEM []byte
	if o.caFile != "" {
		if caPEM, err = os.ReadFile(o.caFile); err != nil {
			return o, tableau.PersonalAccessToken{}, nil, fmt.Errorf("reading --ca-file: %w", err)
		}
	}
	return o, tableau.PersonalAccessToken{Name: o.tokenName, Secret: tableau.NewSecret(secret)}, caPEM, nil
}

func readSecret(file string, getenv func(string) string) (string, error) {
	var secret string
	switch {
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("reading --token-secret-file: %w", err)
		}
		// Files written by editors and `echo` end with a newline that is not part of the secret.
		secret = strings.TrimRight(string(b), "\r\n")
	case getenv(SecretEnv) != "":
		secret = getenv(SecretEnv)
	default:
		return "", errors.New("no PAT secret: use --token-secret-file FILE or set " + SecretEnv)
	}
	if strings.TrimSpace(secret) == "" {
		return "", errors.New("the PAT secret is empty")
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

func diagnose(ctx context.Context, c *tableau.Client, o options, pat tableau.PersonalAccessToken, stderr io.Writer) Report {
	rep := Report{Server: o.server, Site: o.site, APIVersion: o.apiVersion, TokenName: pat.Name}
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
		// Signing in at this version would only fail with 404001 and end the PAT's other session.
		rep.Bucket, rep.Reason, rep.Message, rep.Remediation = string(v.Bucket), v.Reason, v.Message, v.NextStep
		rep.Endpoint = "GET /api/" + tableau.ServerInfoAPIVersion + "/serverinfo"
		return rep
	}

	var sess *tableau.Session
	err = policy.Do(ctx, func(ctx context.Context) error {
		var err error
		sess, err = c.SignInWithPAT(ctx, o.site, pat)
		return err
	}, retrying)
	if err != nil {
		return failed(rep, err)
	}
	rep.OK = true
	rep.Reason = "SignedIn"
	rep.Endpoint = "POST /api/" + o.apiVersion + "/auth/signin"
	rep.RequestID, rep.LatencyMs = sess.RequestID, sess.Latency.Milliseconds()
	rep.Message = fmt.Sprintf("Signed in to site %q as PAT %q at REST API %s; the server offers up to %s.", o.site, pat.Name, o.apiVersion, info.RESTAPIVersion)
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
	v, _ := classify.Failure(err, classify.Evidence{Now: time.Now(), Site: rep.Site})
	rep.Bucket, rep.Reason, rep.Message, rep.Remediation = string(v.Bucket), v.Reason, v.Message, v.NextStep
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
