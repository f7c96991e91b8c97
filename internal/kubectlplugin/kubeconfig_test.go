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

package kubectlplugin

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/spf13/pflag"
)

const twoContexts = `apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev
  cluster: {server: "https://dev.example.invalid:6443"}
- name: prod
  cluster: {server: "https://prod.example.invalid:6443"}
users:
- name: dev
  user: {token: fake-dev-token}
- name: prod
  user: {token: fake-prod-token}
contexts:
- name: dev
  context: {cluster: dev, user: dev, namespace: dev-ns}
- name: prod
  context: {cluster: prod, user: prod, namespace: prod-ns}
`

// The flags kubectl plugins take, spelled as kubectl spells them.
func TestKubeconfigFlagsAreKubectls(t *testing.T) {
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	newKubeconfigFlags().addFlags(fs)
	for long, short := range map[string]string{
		"kubeconfig": "", "context": "", "cluster": "", "user": "", "namespace": "n", "server": "s",
		"token": "", "as": "", "as-group": "", "as-uid": "", "as-user-extra": "", "certificate-authority": "",
		"client-certificate": "", "client-key": "", "insecure-skip-tls-verify": "", "tls-server-name": "",
		"request-timeout": "", "proxy-url": "", "disable-compression": "", "cache-dir": "",
	} {
		f := fs.Lookup(long)
		if f == nil {
			t.Errorf("--%s is missing", long)
			continue
		}
		if f.Shorthand != short {
			t.Errorf("--%s has shorthand %q, want %q", long, f.Shorthand, short)
		}
	}
	for _, absent := range []string{"username", "password"} {
		if fs.Lookup(absent) != nil {
			t.Errorf("--%s is offered; kubectl plugins leave basic authentication out", absent)
		}
	}
}

func TestKubeconfigFlagsLoadAsKubectlDoes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(twoContexts), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name          string
		env           string
		args          []string
		host, ns      string
		token, as     string
		extra         map[string][]string
		nsFromFlagsOK bool
	}{
		{name: "KUBECONFIG and its current context", env: path,
			host: "https://dev.example.invalid:6443", ns: "dev-ns", token: "fake-dev-token"},
		{name: "--kubeconfig over KUBECONFIG", env: filepath.Join(t.TempDir(), "absent"), args: []string{"--kubeconfig", path},
			host: "https://dev.example.invalid:6443", ns: "dev-ns", token: "fake-dev-token"},
		{name: "--context", env: path, args: []string{"--context", "prod"},
			host: "https://prod.example.invalid:6443", ns: "prod-ns", token: "fake-prod-token"},
		{name: "-n, --cluster, --user and -s lay over the context", env: path,
			args: []string{"-n", "ns/tenants", "--cluster", "prod", "--user", "prod", "-s", "https://other.example.invalid"},
			host: "https://other.example.invalid", ns: "tenants", token: "fake-prod-token", nsFromFlagsOK: true},
		{name: "--token and impersonation", env: path,
			args: []string{"--token", "fake-flag-token", "--as", "alice", "--as-user-extra", "scopes=a", "--as-user-extra", "scopes=b", "--as-user-extra", "novalue"},
			host: "https://dev.example.invalid:6443", ns: "dev-ns", token: "fake-flag-token", as: "alice",
			extra: map[string][]string{"scopes": {"a", "b"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("KUBECONFIG", tc.env)
			k := newKubeconfigFlags()
			fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
			k.addFlags(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			loader := k.clientConfig()
			cfg, err := loader.ClientConfig()
			if err != nil {
				t.Fatal(err)
			}
			ns, fromFlags, err := loader.Namespace()
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Host != tc.host || ns != tc.ns || cfg.BearerToken != tc.token || cfg.Impersonate.UserName != tc.as {
				t.Errorf("host %q ns %q token %q as %q; want %q %q %q %q", cfg.Host, ns, cfg.BearerToken, cfg.Impersonate.UserName, tc.host, tc.ns, tc.token, tc.as)
			}
			if fromFlags != tc.nsFromFlagsOK {
				t.Errorf("namespace from flags: %v, want %v", fromFlags, tc.nsFromFlagsOK)
			}
			if len(tc.extra) > 0 && !reflect.DeepEqual(cfg.Impersonate.Extra, tc.extra) {
				t.Errorf("impersonated extras %v, want %v", cfg.Impersonate.Extra, tc.extra)
			}
		})
	}
}
