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
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

func newResumeCmd(e *env) *cobra.Command {
	var noWait bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "resume fleet/NAME",
		Short: summary("resume"),
		Long: summary("resume") + `.

It sets the tableau-operator.dev/resume annotation to the current time; the fleet controller
acknowledges the members that have failed so far and lets the wave go on past them (they keep
their active credentials). resume waits until the fleet has handled it and exits 0 when the
fleet is no longer halted.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := parseTarget(args[0])
			if err != nil {
				return err
			}
			if !t.fleet {
				return fmt.Errorf("resume takes fleet/NAME: a halt belongs to a TableauFleet (for a connection use rotate)")
			}
			if timeout <= 0 {
				return fmt.Errorf("--timeout must be positive, got %s", timeout)
			}
			if err := e.connect(); err != nil {
				return err
			}
			return resume(cmd.Context(), e, t.name, noWait, timeout)
		},
	}
	cmd.Flags().BoolVar(&noWait, "no-wait", false, "return as soon as the request is recorded")
	cmd.Flags().DurationVar(&timeout, "timeout", 2*time.Minute, "how long to wait for the fleet to handle it")
	return cmd
}

func resume(ctx context.Context, e *env, name string, noWait bool, timeout time.Duration) error {
	key := types.NamespacedName{Namespace: e.ns, Name: name}
	var f v1.TableauFleet
	if err := e.k8s.Get(ctx, key, &f); err != nil {
		return apiError("reading TableauFleet "+key.String(), err)
	}
	if !f.Status.Halted {
		fmt.Fprintf(e.streams.Out, "TableauFleet %s is not halted; nothing to resume.\n", key)
		return nil
	}
	value := requestValue(e.now(), f.Annotations[v1.AnnotationResume], f.Status.LastHandledResume)
	start := e.now()
	return e.annotateAndWait(ctx, request{
		obj:       &f,
		what:      "TableauFleet " + key.String(),
		key:       v1.AnnotationResume,
		value:     value,
		requested: fmt.Sprintf("Requested: %s=%s on %s (halted at %s)\n", v1.AnnotationResume, value, key, names(blockingOf(&f))),
		noWait:    noWait,
		timeout:   timeout,
		timedOut:  failed("the fleet controller did not handle the resume within %s", timeout),
		poll: func(ctx context.Context) (string, bool, error) {
			// A failed read is retried until the timeout: the resume is recorded already.
			if err := e.k8s.Get(ctx, key, &f); err != nil {
				return "", false, nil
			}
			return fmt.Sprintf("%s: waiting for the fleet controller %ds", key, int(e.now().Sub(start).Seconds())),
				f.Status.LastHandledResume == value, nil
		},
		answer: func() error {
			if f.Status.Halted {
				return failed("TableauFleet %s is halted again, at %s: a member failed after the resume", key, names(blockingOf(&f)))
			}
			fmt.Fprintln(e.streams.Out, resumedLine(&f))
			return nil
		},
	})
}

// resumedLine says in a sentence what a handled resume did: which failed members the wave
// now passes (they keep their active credentials) and who may promote now.
func resumedLine(f *v1.TableauFleet) string {
	st := f.Status
	line := "Resumed past " + names(st.Acknowledged) + ": the wave goes on without it, and it keeps its active credential."
	if len(st.Acknowledged) > 1 {
		line = "Resumed past " + names(st.Acknowledged) + ": the wave goes on without them, and they keep their active credentials."
	}
	if len(st.Acknowledged) == 0 {
		line = "Resumed: no failed member holds the wave."
	}
	if len(st.Current) > 0 {
		return line + " Promoting now: " + names(st.Current) + "."
	}
	if st.Rotating > 0 || st.Pending > 0 {
		return line + fmt.Sprintf(" %d rotating, %d pending.", st.Rotating, st.Pending)
	}
	return line + " No member has a rotation pending."
}

// names is a list of member names for a sentence, bounded: a fleet may have many members.
func names(list []string) string {
	if len(list) == 0 {
		return "no member"
	}
	const most = 10
	if len(list) > most {
		return truncate(strings.Join(list[:most], ", "), 600) + fmt.Sprintf(" and %d more", len(list)-most)
	}
	return truncate(strings.Join(list, ", "), 600)
}
