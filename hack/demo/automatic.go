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

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/tableausim"
	"github.com/tableau-operator/tableau-operator/internal/testenv"
)

// operator is the operator process the demo runs, and kills.
type operator struct {
	bin, kubeconfig string
	log             *os.File
	cmd             *exec.Cmd
}

func (o *operator) start() error {
	// The simulator listens on 127.0.0.1: the operator sends credentials nowhere else.
	o.cmd = exec.Command(o.bin, "--metrics-bind-address=0", "--metrics-secure=false", "--health-probe-bind-address=127.0.0.1:0", "--allowed-servers=127.0.0.1")
	o.cmd.Env = append(os.Environ(), "KUBECONFIG="+o.kubeconfig)
	o.cmd.Stdout, o.cmd.Stderr = o.log, o.log
	return o.cmd.Start()
}

func (o *operator) stop(sig syscall.Signal) {
	if o.cmd == nil || o.cmd.Process == nil {
		return
	}
	_ = o.cmd.Process.Signal(sig)
	_ = o.cmd.Wait()
	o.cmd = nil
}

// automaticAct: three tenants on connected apps rotate their secrets themselves every
// minute; the operator is killed in the middle of a rotation and restarted, and every app ends
// with exactly one secret on the simulator.
func automaticAct(d *demo, sim *tableausim.Simulator, srv *tableausim.Server, op *operator) error {
	ctx := context.Background()
	k8s, err := client.New(d.env.Config, client.Options{Scheme: testenv.Scheme()})
	if err != nil {
		return err
	}
	fmt.Println()
	step("act 3, automatic rotation: three tenants on connected apps rotate their secrets every minute, with no person involved")
	ns := "auto"
	if err := fleetNamespace(ctx, k8s, ns, srv); err != nil {
		return err
	}
	tenants := []string{"north", "south", "west"}
	for _, t := range tenants {
		sim.AddSite(t, t)
		if err := sim.AddUser(t, "reports@example.com", "Viewer"); err != nil {
			return err
		}
		if err := sim.AddConnectedApp(t, tableausim.ConnectedApp{ClientID: "client-" + t, Name: t + " reports"}); err != nil {
			return err
		}
		value := secret()
		if err := sim.AddConnectedAppSecret(t, "client-"+t, t+"-first", value); err != nil {
			return err
		}
		admin := secret()
		if err := sim.AddPAT(t, tableausim.PAT{Name: t + "-operator-admin", Secret: admin, SiteRole: "SiteAdministratorCreator", Expires: time.Now().Add(180 * 24 * time.Hour)}); err != nil {
			return err
		}
		for name, data := range map[string]map[string][]byte{
			t + "-app":   {"clientId": []byte("client-" + t), "secretId": []byte(t + "-first"), "secretValue": []byte(value)},
			t + "-admin": {"tokenName": []byte(t + "-operator-admin"), "tokenSecret": []byte(admin)},
		} {
			if err := k8s.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: consent}, Data: data}); err != nil {
				return err
			}
		}
		conn := &v1.TableauConnection{ObjectMeta: metav1.ObjectMeta{Name: t, Namespace: ns, Labels: map[string]string{"fleet": "auto"}},
			Spec: v1.TableauConnectionSpec{Server: srv.URL, Site: t, APIVersion: "3.24",
				Auth: v1.AuthSpec{ConnectedApp: &v1.ConnectedAppAuth{SecretRef: v1.ConnectedAppSecretReference{Name: t + "-app"},
					Username: "reports@example.com", Scopes: []string{"tableau:content:read"}}},
				TLS:       &v1.TLSSpec{CABundle: &v1.CABundleSource{Kind: "ConfigMap", Name: "tableau-ca", Key: "ca.crt"}},
				Consumers: &v1.ConsumersSpec{SecretName: t + "-tableau"},
				Rotation: v1.RotationSpec{Automatic: &v1.AutomaticRotation{Every: metav1.Duration{Duration: time.Minute},
					AdminSecretRef: v1.PATSecretReference{Name: t + "-admin"}}}}}
		if err := k8s.Create(ctx, conn); err != nil {
			return err
		}
	}
	showSecrets := func() {
		for _, t := range tenants {
			ids, _ := sim.ConnectedAppSecretIDs(t, "client-"+t)
			fmt.Printf("    connected app client-%s holds secrets %s\n", t, strings.Join(ids, ", "))
		}
	}
	showSecrets()
	fmt.Println("    waiting for the first rotation (a minute after each secret became active)")
	get := func(t string) (*v1.TableauConnection, error) {
		var c v1.TableauConnection
		return &c, k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: t}, &c)
	}
	deadline := time.Now().Add(4 * time.Minute)
	crashed := false
	for !crashed {
		if time.Now().After(deadline) {
			return fmt.Errorf("no automatic rotation began in time")
		}
		for _, t := range tenants {
			c, err := get(t)
			if err == nil && c.Status.Rotation != nil && c.Status.Rotation.Automatic != nil && c.Status.Rotation.Automatic.Phase == "RollingOut" {
				fmt.Printf("    %s: %s\n", t, c.Status.Rotation.Automatic.Message)
				step("killing the operator (SIGKILL) in the middle of %s's rotation, and starting it again", t)
				op.stop(syscall.SIGKILL)
				showSecrets()
				if err := op.start(); err != nil {
					return err
				}
				crashed = true
				break
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	done := map[string]bool{}
	for len(done) < len(tenants) {
		if time.Now().After(deadline) {
			showSecrets()
			return fmt.Errorf("the rotations did not finish in time")
		}
		for _, t := range tenants {
			c, err := get(t)
			if err != nil || done[t] || c.Status.Rotation == nil || c.Status.Rotation.Automatic == nil || c.Status.Credentials == nil {
				continue
			}
			ids, _ := sim.ConnectedAppSecretIDs(t, "client-"+t)
			if c.Status.Rotation.Automatic.Phase == "Idle" && c.Status.Rotation.Phase == v1.RotationIdle && c.Status.Credentials.SecretID != t+"-first" && len(ids) == 1 {
				fmt.Printf("    %s rotated to secret %s; the first one was deleted on Tableau after the gate\n", t, c.Status.Credentials.SecretID)
				done[t] = true
			}
		}
		time.Sleep(300 * time.Millisecond)
	}
	step("every app holds exactly one secret, the one its consumers hold")
	showSecrets()
	return d.show("automatic", "-n", ns, "get", "tabconn", "-o",
		`custom-columns=NAME:.metadata.name,READY:.status.conditions[?(@.type=="Ready")].status,SECRET:.status.credentials.secretID,AUTOMATIC:.status.rotation.automatic.phase,MESSAGE:.status.rotation.automatic.message`)
}

// fleetNamespace creates a namespace with the simulator's CA bundle and a TableauFleet, named
// like the namespace, of the connections labelled fleet=<namespace>.
func fleetNamespace(ctx context.Context, k8s client.Client, ns string, srv *tableausim.Server) error {
	if err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		return err
	}
	if err := k8s.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "tableau-ca", Namespace: ns, Labels: consent}, Data: map[string]string{"ca.crt": string(srv.CAPEM)}}); err != nil {
		return err
	}
	return k8s.Create(ctx, &v1.TableauFleet{ObjectMeta: metav1.ObjectMeta{Name: ns, Namespace: ns},
		Spec: v1.TableauFleetSpec{Selector: metav1.LabelSelector{MatchLabels: map[string]string{"fleet": ns}}}})
}
