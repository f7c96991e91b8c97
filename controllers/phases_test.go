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

package controllers

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
)

func TestPhaseOrder(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range (&TableauConnectionReconciler{}).phases() {
		for _, n := range p.needs {
			if !seen[n] {
				t.Errorf("phase %s needs %s, which does not run before it", p.name, n)
			}
		}
		if seen[p.name] {
			t.Errorf("phase %s is declared twice", p.name)
		}
		seen[p.name] = true
	}
}

func TestRunPhases(t *testing.T) {
	boom := errors.New("boom")
	record := func(name string, o outcome, ran *[]string) phase {
		return phase{name: name, stage: stage(name[:1]), runner: phaseFunc(func(context.Context, *scope) outcome {
			*ran = append(*ran, name)
			return o
		})}
	}
	tests := map[string]struct {
		outcomes map[string]outcome // by phase name; proceeded when absent
		ran      []string
		result   outcome
		requeue  time.Duration
	}{
		"every phase proceeds": {
			ran: []string{"a1", "a2", "b1", "b2"}, result: proceeded()},
		"a stop ends its own stage only": {
			outcomes: map[string]outcome{"a1": stopped()},
			ran:      []string{"a1", "b1", "b2"}, result: proceeded()},
		"a wait ends its stage and asks to come back": {
			outcomes: map[string]outcome{"a1": waitFor(time.Minute)},
			ran:      []string{"a1", "b1", "b2"}, result: proceeded(), requeue: time.Minute},
		"the earliest wait wins": {
			outcomes: map[string]outcome{"a2": waitFor(time.Hour), "b1": waitFor(time.Minute)},
			ran:      []string{"a1", "a2", "b1"}, result: proceeded(), requeue: time.Minute},
		"a failure ends the reconcile": {
			outcomes: map[string]outcome{"a2": failed(boom)},
			ran:      []string{"a1", "a2"}, result: failed(boom)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var ran []string
			var phases []phase
			for _, n := range []string{"a1", "a2", "b1", "b2"} {
				o, ok := tc.outcomes[n]
				if !ok {
					o = proceeded()
				}
				phases = append(phases, record(n, o, &ran))
			}
			s := &scope{}
			got := runPhases(context.Background(), s, phases)
			if !reflect.DeepEqual(ran, tc.ran) {
				t.Errorf("ran %v, want %v", ran, tc.ran)
			}
			if got.kind != tc.result.kind || !errors.Is(got.err, tc.result.err) {
				t.Errorf("outcome %+v, want %+v", got, tc.result)
			}
			if s.requeueAfter != tc.requeue {
				t.Errorf("requeue after %v, want %v", s.requeueAfter, tc.requeue)
			}
		})
	}
}

func TestComputeResult(t *testing.T) {
	boom := errors.New("boom")
	tests := map[string]struct {
		o       outcome
		requeue time.Duration
		want    ctrl.Result
		err     error
	}{
		"proceeded without a requeue waits for the next event": {o: proceeded(), want: ctrl.Result{}},
		"proceeded comes back at the earliest time asked":      {o: proceeded(), requeue: time.Minute, want: ctrl.Result{RequeueAfter: time.Minute}},
		"a stop comes back at the earliest time asked":         {o: stopped(), requeue: time.Hour, want: ctrl.Result{RequeueAfter: time.Hour}},
		"a failure is controller-runtime's to retry":           {o: failed(boom), requeue: time.Minute, want: ctrl.Result{}, err: boom},
		"a crash is returned as it is":                         {o: failed(ErrCrash), want: ctrl.Result{}, err: ErrCrash},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := computeResult(tc.o, tc.requeue)
			if got != tc.want || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Errorf("computeResult = %+v, %v; want %+v, %v", got, err, tc.want, tc.err)
			}
		})
	}
}

// phaseFunc runs a function as a phase.
type phaseFunc func(ctx context.Context, s *scope) outcome

func (f phaseFunc) run(ctx context.Context, s *scope) outcome { return f(ctx, s) }
