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

// Package watchnamespaces turns the --watch-namespaces flag into the manager's cache scope.
// An operator that watches named namespaces lists and watches only there, so it needs Roles
// in those namespaces and no ClusterRole for Secrets or workloads: several installs, each
// with its own namespaces, split a large estate and each team's blast radius.
package watchnamespaces

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/cache"
)

// Parse reads a comma-separated list of namespace names. Empty means every namespace (nil).
// Blanks around names are ignored; an invalid or repeated name is an error naming it.
func Parse(flag string) ([]string, error) {
	if strings.TrimSpace(flag) == "" {
		return nil, nil
	}
	var names []string
	for _, part := range strings.Split(flag, ",") {
		name := strings.TrimSpace(part)
		if name == "" {
			return nil, fmt.Errorf("--watch-namespaces %q has an empty entry", flag)
		}
		if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
			return nil, fmt.Errorf("--watch-namespaces: %q is not a namespace name: %s", name, strings.Join(errs, "; "))
		}
		if slices.Contains(names, name) {
			return nil, fmt.Errorf("--watch-namespaces: %q is listed twice", name)
		}
		names = append(names, name)
	}
	return names, nil
}

// Scope limits opts to namespaces; nil namespaces leaves it cluster-wide. The cache's
// per-object options (the Secret selector, transforms) still apply inside each namespace.
func Scope(opts cache.Options, namespaces []string) cache.Options {
	if len(namespaces) == 0 {
		return opts
	}
	opts.DefaultNamespaces = make(map[string]cache.Config, len(namespaces))
	for _, ns := range namespaces {
		opts.DefaultNamespaces[ns] = cache.Config{}
	}
	return opts
}
