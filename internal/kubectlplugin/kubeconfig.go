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
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/homedir"
)

// kubeconfigFlags are the kubeconfig flags every kubectl plugin offers, bound with client-go's
// clientcmd alone. cli-runtime's genericclioptions builds the same flags on clientcmd, but
// importing it links kustomize's OpenAPI document into this binary, which is also the
// operator: 27 MB on disk and 8 MB of resident memory the manager never uses.
type kubeconfigFlags struct {
	kubeconfig string
	overrides  clientcmd.ConfigOverrides
	// userExtra is --as-user-extra KEY=VALUE, repeated; clientcmd has no flag for it.
	userExtra []string
	// cacheDir is accepted as kubectl accepts it; this plugin does no discovery, so caches nothing.
	cacheDir string
}

func newKubeconfigFlags() *kubeconfigFlags {
	return &kubeconfigFlags{overrides: clientcmd.ConfigOverrides{ClusterDefaults: clientcmd.ClusterDefaults}}
}

// addFlags registers the flags kubectl plugins take (kubectl's spelling: -n, -s, --context,
// --as...). Basic authentication (--username, --password) is left out, as kubectl leaves it out.
func (k *kubeconfigFlags) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&k.kubeconfig, clientcmd.RecommendedConfigPathFlag, "", "Path to the kubeconfig file to use for CLI requests.")
	fs.StringVar(&k.cacheDir, "cache-dir", filepath.Join(homedir.HomeDir(), ".kube", "cache"), "Default cache directory (accepted as kubectl accepts it; this plugin caches nothing)")
	names := clientcmd.RecommendedConfigOverrideFlags("")
	names.AuthOverrideFlags.Username.LongName = ""
	names.AuthOverrideFlags.Password.LongName = ""
	names.ClusterOverrideFlags.APIServer.ShortName = "s"
	clientcmd.BindOverrideFlags(&k.overrides, fs, names)
	fs.StringArrayVar(&k.userExtra, "as-user-extra", nil, "User extras to impersonate for the operation, this flag can be repeated to specify multiple values for the same key.")
}

// serverGiven says whether --server names an API server, which makes a kubeconfig unnecessary.
func (k *kubeconfigFlags) serverGiven() bool { return k.overrides.ClusterInfo.Server != "" }

// clientConfig loads the kubeconfig as kubectl does: --kubeconfig, else KUBECONFIG, else
// ~/.kube/config, else the in-cluster configuration (whose namespace is then the default),
// with the flags laid over it.
func (k *kubeconfigFlags) clientConfig() clientcmd.ClientConfig {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.DefaultClientConfig = &clientcmd.DefaultClientConfig
	rules.ExplicitPath = k.kubeconfig
	overrides := k.overrides
	if extra := parseUserExtra(k.userExtra); len(extra) > 0 {
		overrides.AuthInfo.ImpersonateUserExtra = extra
	}
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &overrides)
}

// parseUserExtra reads KEY=VALUE pairs; a pair without "=" is skipped, as kubectl skips it.
func parseUserExtra(pairs []string) map[string][]string {
	extra := map[string][]string{}
	for _, p := range pairs {
		key, value, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		extra[key] = append(extra[key], value)
	}
	return extra
}
