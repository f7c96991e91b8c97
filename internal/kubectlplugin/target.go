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
	"fmt"
	"strings"
)

// target is what a command names: a TableauConnection, or a TableauFleet written fleet/NAME.
type target struct {
	fleet bool
	name  string
}

// parseTarget accepts NAME, tabconn/NAME, tableauconnection/NAME, fleet/NAME, tabfleet/NAME
// and tableaufleet/NAME, as kubectl spells kinds.
func parseTarget(arg string) (target, error) {
	kind, name, found := strings.Cut(arg, "/")
	if !found {
		kind, name = "", arg
	}
	if name == "" || strings.Contains(name, "/") {
		return target{}, fmt.Errorf("%q is not a name: give CONNECTION or fleet/NAME", arg)
	}
	switch strings.ToLower(kind) {
	case "", "tabconn", "tableauconnection", "tableauconnections", "tableauconnection.tableau-operator.dev":
		return target{name: name}, nil
	case "fleet", "tabfleet", "tableaufleet", "tableaufleets", "tableaufleet.tableau-operator.dev":
		return target{fleet: true, name: name}, nil
	}
	return target{}, fmt.Errorf("%q is not a kind this plugin knows: give CONNECTION or fleet/NAME", kind)
}
