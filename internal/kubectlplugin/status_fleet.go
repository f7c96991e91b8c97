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
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

// fleetView is everything status shows about one fleet.
type fleetView struct {
	fleet   *v1.TableauFleet
	members []v1.TableauConnection
}

func loadFleet(ctx context.Context, c client.Client, ns, name string) (fleetView, error) {
	var f v1.TableauFleet
	if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &f); err != nil {
		if apierrors.IsNotFound(err) {
			return fleetView{}, failed("TableauFleet %s/%s not found", ns, name)
		}
		return fleetView{}, apiError("reading TableauFleet "+ns+"/"+name, err)
	}
	var conns v1.TableauConnectionList
	if err := c.List(ctx, &conns, client.InNamespace(ns)); err != nil {
		return fleetView{}, apiError("listing TableauConnections", err)
	}
	v := fleetView{fleet: &f}
	for _, conn := range conns.Items {
		if selects(&f, &conn) {
			v.members = append(v.members, conn)
		}
	}
	// The fleet rolls out in name order.
	sort.Slice(v.members, func(i, j int) bool { return v.members[i].Name < v.members[j].Name })
	return v, nil
}

func renderFleet(w io.Writer, v fleetView, now time.Time, p palette) {
	v = v.printable()
	f := v.fleet
	st := f.Status
	fmt.Fprintf(w, "%s %s/%s\n", p.bold("TableauFleet"), f.Namespace, f.Name)
	sel, _ := metav1.LabelSelectorAsSelector(&f.Spec.Selector)
	halt := f.Spec.Rollout.HaltOnFailure == nil || *f.Spec.Rollout.HaltOnFailure
	maxConcurrent := f.Spec.Rollout.MaxConcurrent
	if maxConcurrent < 1 {
		maxConcurrent = 1 // the fleet controller's default
	}
	fmt.Fprintf(w, "  Selector:    %s  maxConcurrent %d  haltOnFailure %t", sel, maxConcurrent, halt)
	if f.Spec.Rollout.PauseBetween != nil {
		fmt.Fprintf(w, "  pauseBetween %s", f.Spec.Rollout.PauseBetween.Duration)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  Members:     %d, %d ready, %d rotating, %d pending\n", st.Members, st.Ready, st.Rotating, st.Pending)
	if f.Generation != 0 && st.ObservedGeneration != f.Generation {
		fmt.Fprintf(w, "  %s\n", p.warn(fmt.Sprintf("The operator has not seen generation %d yet (status is for %d).", f.Generation, st.ObservedGeneration)))
	}
	halted := fleetHalted(f)
	switch passed := acknowledgedOf(f); {
	case halted:
		fmt.Fprintf(w, "  %s at %s: members after it keep their active credentials.\n", p.bad("Halted"), strings.Join(blockingOf(f), ", "))
	case len(passed) > 0:
		fmt.Fprintf(w, "  Halted:      %s (resumed past %s, which keeps its active credential)\n", p.good("no"), strings.Join(passed, ", "))
	default:
		fmt.Fprintf(w, "  Halted:      %s\n", p.good("no"))
	}
	if len(st.Suspended) > 0 {
		fmt.Fprintf(w, "  Suspended:   %s (no place in the wave until unsuspended)\n", strings.Join(st.Suspended, ", "))
	}
	fmt.Fprintln(w, p.bold("Conditions"))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range st.Conditions {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", c.Type, p.status(c.Type, c.Status), c.Reason, ago(c.LastTransitionTime.Time, now), truncate(c.Message, 200))
	}
	_ = tw.Flush()
	fmt.Fprintln(w, p.bold("Order"))
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  #\tMEMBER\tREADY\tROTATION\tFOR\tWAVE\tREASON")
	for i, m := range v.members {
		ready, reason := readyOf(&m)
		phase, since := "-", "-"
		if rs := m.Status.Rotation; rs != nil {
			phase, since = rs.Phase, duration.HumanDuration(nonNegative(now.Sub(rs.PhaseSince.Time)))
		}
		wave := "-"
		switch {
		case contains(st.Failed, m.Name) && contains(st.Acknowledged, m.Name):
			wave = p.warn("failed, passed by resume")
		case contains(st.Failed, m.Name) && halted:
			wave = p.bad("failed: halts the wave")
		case contains(st.Failed, m.Name):
			wave = p.bad("failed")
		case contains(st.Suspended, m.Name):
			wave = p.warn("suspended")
		case contains(st.Current, m.Name):
			wave = p.good("current")
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\t%s\n", i+1, m.Name, p.status(v1.ConditionReady, metav1.ConditionStatus(ready)), rotationPhase(phase, p), since, wave, reason)
	}
	_ = tw.Flush()
	switch {
	case halted:
		fmt.Fprintf(w, "%s fix the failed member (kubectl tableau status %s), or `kubectl tableau resume fleet/%s` to let the wave pass it.\n",
			p.bold("Next step:"), blockingOf(f)[0], f.Name)
	case st.Rotating > 0 || st.Pending > 0:
		fmt.Fprintf(w, "%s wait: the wave is rolling.\n", p.bold("Next step:"))
	default:
		fmt.Fprintf(w, "%s nothing: the wave is settled.\n", p.bold("Next step:"))
	}
}

// blockingOf lists the failed members no resume has passed: the ones that halt the wave.
// status.failed keeps a member a resume passed (it is still failed), so it alone does not
// say where the wave stands.
func blockingOf(f *v1.TableauFleet) []string {
	var out []string
	for _, name := range f.Status.Failed {
		if !contains(f.Status.Acknowledged, name) {
			out = append(out, name)
		}
	}
	return out
}

// acknowledgedOf lists the failed members a resume let the wave pass.
func acknowledgedOf(f *v1.TableauFleet) []string {
	var out []string
	for _, name := range f.Status.Failed {
		if contains(f.Status.Acknowledged, name) {
			out = append(out, name)
		}
	}
	return out
}

// fleetHalted: the fleet says it is halted and a failed member no resume passed halts it. The
// Halted condition, when the fleet controller has written one, has the last word: it is
// written with the same decision and says False once a resume is handled.
func fleetHalted(f *v1.TableauFleet) bool {
	st := f.Status
	if !st.Halted || len(blockingOf(f)) == 0 {
		return false
	}
	for _, c := range st.Conditions {
		if c.Type == v1.ConditionHalted {
			return c.Status == metav1.ConditionTrue
		}
	}
	return true
}
