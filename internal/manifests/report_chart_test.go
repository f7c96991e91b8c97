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
	"reflect"
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// checkReportCronJob: auditReport renders a CronJob that runs `ctl report -A --since <since>
// -o csv` on the schedule asked for, as its own ServiceAccount, bound to a ClusterRole that may
// only list the operator's two kinds: report lists, it gets nothing.
func checkReportCronJob(t *testing.T, idx map[string]*unstructured.Unstructured) {
	t.Helper()
	cj := idx["CronJob/"+namespace+"/tableau-operator-report"]
	role := idx["ClusterRole/tableau-operator-report"]
	binding := idx["ClusterRoleBinding/tableau-operator-report"]
	if cj == nil || role == nil || binding == nil || idx["ServiceAccount/"+namespace+"/tableau-operator-report"] == nil {
		t.Fatal("auditReport.enabled renders no CronJob, ClusterRole, ClusterRoleBinding or ServiceAccount")
	}
	if s, _, _ := unstructured.NestedString(cj.Object, "spec", "schedule"); s != "30 5 * * 1" {
		t.Errorf("schedule = %q", s)
	}
	if tz, _, _ := unstructured.NestedString(cj.Object, "spec", "timeZone"); tz != "Europe/Berlin" {
		t.Errorf("timeZone = %q", tz)
	}
	pod, _, _ := unstructured.NestedMap(cj.Object, "spec", "jobTemplate", "spec", "template", "spec")
	if pod["serviceAccountName"] != "tableau-operator-report" {
		t.Errorf("serviceAccountName = %v", pod["serviceAccountName"])
	}
	containers, _ := pod["containers"].([]any)
	if len(containers) != 1 {
		t.Fatalf("want one container, got %d", len(containers))
	}
	args, _, _ := unstructured.NestedStringSlice(containers[0].(map[string]any), "args")
	if want := []string{"ctl", "report", "-A", "--since", "72h", "-o", "csv"}; !slices.Equal(args, want) {
		t.Errorf("args = %v, want %v", args, want)
	}
	rules, _, _ := unstructured.NestedSlice(role.Object, "rules")
	want := []any{map[string]any{"apiGroups": []any{"tableau-operator.dev"}, "resources": []any{"tableauconnections", "tableaufleets"}, "verbs": []any{"list"}}}
	if !reflect.DeepEqual(rules, want) {
		t.Errorf("the report's ClusterRole may do more than read the operator's kinds: %v", rules)
	}
	subjects, _, _ := unstructured.NestedSlice(binding.Object, "subjects")
	if len(subjects) != 1 || subjects[0].(map[string]any)["name"] != "tableau-operator-report" {
		t.Errorf("the binding's subjects %v are not the report's ServiceAccount", subjects)
	}
}
