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

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// newSuspendCmd is suspend (on) or unsuspend (!on): spec.suspend, patched with an optimistic
// lock so an edit made meanwhile is not overwritten.
func newSuspendCmd(e *env, on bool) *cobra.Command {
	name := "suspend"
	if !on {
		name = "unsuspend"
	}
	return &cobra.Command{
		Use:   name + " CONNECTION",
		Short: summary(name),
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := parseTarget(args[0])
			if err != nil {
				return err
			}
			if t.fleet {
				return fmt.Errorf("%s takes a TableauConnection, not a fleet", name)
			}
			if err := e.connect(); err != nil {
				return err
			}
			conn, err := getConnection(cmd.Context(), e.k8s, e.ns, t.name)
			if err != nil {
				return err
			}
			if conn.Spec.Suspend == on {
				fmt.Fprintf(e.streams.Out, "TableauConnection %s/%s: spec.suspend is already %t\n", e.ns, t.name, on)
				return nil
			}
			before := conn.DeepCopy()
			conn.Spec.Suspend = on
			if err := e.k8s.Patch(cmd.Context(), conn, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{})); err != nil {
				return apiError("patching TableauConnection "+e.ns+"/"+t.name, err)
			}
			fmt.Fprintf(e.streams.Out, "TableauConnection %s/%s: spec.suspend set to %t\n", e.ns, t.name, on)
			return nil
		},
	}
}
