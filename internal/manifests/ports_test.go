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

package manifests_test

import (
	"fmt"
	"net"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestPortsFollowTheFlags: in every rendering (config/default, config/namespaced and each value
// set of the chart) the probes reach the port --health-probe-bind-address listens on, and the
// metrics container port, the Service's target port and the NetworkPolicy's port are the one
// --metrics-bind-address listens on. The envtest tests run the args; this checks the wiring.
func TestPortsFollowTheFlags(t *testing.T) {
	renderings := map[string]string{"config/default": kustomize(t, "default"), "config/namespaced": kustomize(t, "namespaced")}
	for _, set := range valueSets {
		renderings[fmt.Sprintf("chart values %q", set)] = render(t, set)
	}
	for name, rendered := range renderings {
		t.Run(name, func(t *testing.T) {
			idx := index(t, rendered)
			var deployment *unstructured.Unstructured
			for _, o := range idx {
				if o.GetKind() == "Deployment" {
					deployment = o
				}
			}
			if deployment == nil {
				t.Fatal("no Deployment")
			}
			c := managerContainer(t, deployment)
			ports := map[string]int64{} // container port by name
			for _, p := range c["ports"].([]any) {
				p := p.(map[string]any)
				ports[p["name"].(string)] = p["containerPort"].(int64)
			}
			probe := listenPort(t, managerArgs(t, deployment), "--health-probe-bind-address")
			for _, kind := range []string{"livenessProbe", "readinessProbe"} {
				port, _, _ := unstructured.NestedFieldNoCopy(c, kind, "httpGet", "port")
				if resolve(ports, port) != probe {
					t.Errorf("%s goes to port %v, the probe server listens on %d", kind, port, probe)
				}
			}
			metrics := listenPort(t, managerArgs(t, deployment), "--metrics-bind-address")
			if metrics == 0 {
				for _, o := range idx {
					if o.GetKind() == "Service" || o.GetKind() == "NetworkPolicy" {
						t.Errorf("metrics are off, yet the rendering has %s", o.GetName())
					}
				}
				return
			}
			for _, o := range idx {
				switch o.GetKind() {
				case "Service":
					svcPorts, _, _ := unstructured.NestedSlice(o.Object, "spec", "ports")
					if len(svcPorts) != 1 || resolve(ports, svcPorts[0].(map[string]any)["targetPort"]) != metrics {
						t.Errorf("Service %s targets %v, the metrics server listens on %d", o.GetName(), svcPorts, metrics)
					}
				case "NetworkPolicy":
					rules, _, _ := unstructured.NestedSlice(o.Object, "spec", "ingress")
					for _, r := range rules {
						for _, p := range r.(map[string]any)["ports"].([]any) {
							if resolve(ports, p.(map[string]any)["port"]) != metrics {
								t.Errorf("NetworkPolicy %s admits port %v, the metrics server listens on %d", o.GetName(), p, metrics)
							}
						}
					}
				}
			}
		})
	}
}

// listenPort is the port of flag's host:port value in args (the last one wins, as in the flag
// package); 0 when the flag disables the server.
func listenPort(t *testing.T, args []string, flag string) int64 {
	t.Helper()
	value, found := "", false
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, flag+"="); ok {
			value, found = v, true
		}
	}
	if !found {
		t.Fatalf("the manager's args %v do not set %s", args, flag)
	}
	if value == "0" {
		return 0
	}
	_, port, err := net.SplitHostPort(value)
	if err != nil {
		t.Fatalf("%s=%s: %v", flag, value, err)
	}
	var n int64
	if _, err := fmt.Sscan(port, &n); err != nil {
		t.Fatalf("%s=%s: %v", flag, value, err)
	}
	return n
}

// resolve turns a port that is a number or a container port's name into a number (0 if unknown).
func resolve(ports map[string]int64, port any) int64 {
	switch p := port.(type) {
	case int64:
		return p
	case string:
		return ports[p]
	}
	return 0
}
