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

package restart

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/testenv"
	. "github.com/tableau-operator/tableau-operator/internal/testenv/optest"
)

// A control plane with the OwnerReferencesPermissionEnforcement admission plugin (OpenShift
// runs it by default), on which the operator runs as its installed ServiceAccount, bound to
// the installed role (config/rbac/role.yaml), through a first rollout and a whole rotation.
// The plugin refuses an owner reference with blockOwnerDeletion (the candidate and previous
// copies carry one) unless the writer may update the owner's finalizers.
func TestRotationAsTheInstalledServiceAccountWithOwnerReferenceEnforcement(t *testing.T) {
	plane := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(testenv.RepoRoot(), "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: os.Getenv("KUBEBUILDER_ASSETS"),
	}
	plane.ControlPlane.GetAPIServer().Configure().Append("enable-admission-plugins", "OwnerReferencesPermissionEnforcement")
	cfg, err := plane.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = plane.Stop() })
	admin, err := client.New(cfg, client.Options{Scheme: Current().Scheme})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	// The installed role, bound to the operator's ServiceAccount.
	raw, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	role := &rbacv1.ClusterRole{}
	if err := yaml.UnmarshalStrict(raw, role); err != nil {
		t.Fatal(err)
	}
	const saNamespace, saName = "tableau-operator-system", "controller-manager"
	for _, obj := range []client.Object{
		role,
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: saNamespace}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: saName, Namespace: saNamespace}},
		&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "manager-rolebinding"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: saName, Namespace: saNamespace}}},
	} {
		if err := admin.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	asOperator := rest.CopyConfig(cfg)
	asOperator.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + saNamespace + ":" + saName,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + saNamespace, "system:authenticated"}}

	// The operator moves to the new plane; the tests' client follows it. Both come back after.
	Current().MoveOperator(t, admin, asOperator)

	w := NewWorld(t)
	w.SoloTenant(t, "owned", func(c *v1.TableauConnection) {
		// Delete gives the consumer Secret a controller reference too.
		c.Spec.Consumers.DeletionPolicy = v1.DeletionDelete
	})
	firstRestart := w.RestartedAt(t, "owned")
	w.SetSource(t, "owned", "owned-v2", w.Pat(t, "owned", "owned-v2", false))
	c := w.Settled(t, "owned", "owned-v2")
	if c.Status.RefusedWrite != nil {
		t.Errorf("refusedWrite = %+v", c.Status.RefusedWrite)
	}
	if w.RestartedAt(t, "owned") == firstRestart {
		t.Error("the rotation did not restart the consumers")
	}
	if err := w.ConsumerSignsIn(t, "owned"); err != nil {
		t.Errorf("the consumer's credential does not sign in: %v", err)
	}
	owners := w.Consumer(t, "owned").OwnerReferences
	if len(owners) != 1 || owners[0].UID != c.UID || owners[0].BlockOwnerDeletion == nil || !*owners[0].BlockOwnerDeletion {
		t.Errorf("consumer owner references = %+v", owners)
	}
}
