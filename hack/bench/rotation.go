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
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/tableausim"
)

// The rotation act (BENCH_ROTATE=1) measures what a platform team's wave costs: one
// TableauFleet (maxConcurrent 10, pauseBetween 1s) over every tenant, each tenant with a
// consumer Secret and one Deployment that reports rolled out BENCH_ROLLOUT (default 3s) after
// its restart, then a new PAT put into every source Secret at once. Its budgets are issue 23's
// targets: what one rotation needs (about 6 status writes, 1 grant, 13 writes, 16 requests,
// 2 sign-ins) with room for a retry, not what today's code happens to cost.
const (
	fleetMaxConcurrent = 10
	fleetPause         = time.Second
)

// rotationBudget is the most a rotated tenant may cost; the bench fails above any of them.
var rotationBudget = []struct {
	what   string
	budget float64
	figure func(r rotationFigures) float64
}{
	{"TableauConnection status writes", 8, func(r rotationFigures) float64 { return r.per(r.api["write tableauconnections/status"]) }},
	{"TableauFleet status writes", 1.5, func(r rotationFigures) float64 { return r.per(r.api["write tableaufleets/status"]) }},
	{"Events", 4, func(r rotationFigures) float64 { return r.per(r.api["write events"]) }},
	{"API writes", 20, func(r rotationFigures) float64 { return r.per(writes(r.api)) }},
	{"Secret content reads (API reader)", 2, func(r rotationFigures) float64 { return r.per(r.api["get secrets"]) }},
	{"Secret metadata reads (API reader)", 2, func(r rotationFigures) float64 { return r.per(r.api["get-metadata secrets"]) }},
	{"Deployment reads (API reader)", 1, func(r rotationFigures) float64 {
		return r.per(r.api["get deployments"] + r.api["get-metadata deployments"])
	}},
	{"API requests", 24, func(r rotationFigures) float64 { return r.per(total(r.api)) }},
	{"Tableau calls", 4, func(r rotationFigures) float64 { return r.per(total(r.calls)) }},
	{"operator CPU (ms)", 150, func(r rotationFigures) float64 { return r.cpu.Seconds() * 1000 / float64(r.n) }},
	// What the operator allocates is what its garbage collector works through (about half of
	// its CPU in a wave, at GOGC=30), and unlike the CPU figure it does not move with the
	// machine's load: a cost per tenant that grows with N shows here first.
	{"operator allocation (KiB)", 2048, func(r rotationFigures) float64 { return r.allocated / 1024 / float64(r.n) }},
	{"wave time / bound", 1.5, func(r rotationFigures) float64 { return r.wave.Seconds() / r.bound.Seconds() }},
}

// allocatedMetric is the Go collector's count of bytes allocated on the heap.
const allocatedMetric = "go_memstats_alloc_bytes_total"

// rotationFigures is what the operator did during one wave of n tenants.
type rotationFigures struct {
	n           int
	api         map[string]int
	calls       map[string]int
	cpu         time.Duration
	allocated   float64 // bytes the operator's heap allocated (go_memstats_alloc_bytes_total)
	wave, bound time.Duration
}

func (r rotationFigures) per(v int) float64 { return float64(v) / float64(r.n) }

func total(m map[string]int) int {
	t := 0
	for _, v := range m {
		t += v
	}
	return t
}

// waveBound is the least a wave can take: ceil(n/maxConcurrent) turns of one rollout, with
// the fleet's pause between turns.
func waveBound(n int, rollout time.Duration) time.Duration {
	turns := (n + fleetMaxConcurrent - 1) / fleetMaxConcurrent
	return time.Duration(turns)*rollout + time.Duration(turns-1)*fleetPause
}

// createRotationTenant creates tenant i as the rotation act needs it: a Deployment, a source
// Secret with the first PAT, and a fleet member with a consumer Secret and that Deployment as
// its restart target.
func createRotationTenant(ctx context.Context, k8s client.Client, sim *tableausim.Simulator, srv *tableausim.Server, ns string, i int) error {
	name := fmt.Sprintf("tenant-%04d", i)
	sim.AddSite(name, name)
	secret, err := addPAT(sim, name, name+"-v1")
	if err != nil {
		return err
	}
	labels := map[string]string{"app": name}
	if err := k8s.Create(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name + "-app", Namespace: ns}, Spec: appsv1.DeploymentSpec{
		Replicas: ptr.To[int32](1),
		Selector: &metav1.LabelSelector{MatchLabels: labels},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "example.com/app:1"}}}},
	}}); err != nil {
		return err
	}
	if err := k8s.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{v1.LabelCredential: v1.CredentialConsent}},
		StringData: map[string]string{"tokenName": name + "-v1", "tokenSecret": secret}}); err != nil {
		return err
	}
	return k8s.Create(ctx, &v1.TableauConnection{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{"fleet": "wave"}},
		Spec: v1.TableauConnectionSpec{
			Server: srv.URL, Site: name, APIVersion: "3.24",
			Auth: v1.AuthSpec{PersonalAccessToken: &v1.PersonalAccessTokenAuth{SecretRef: v1.PATSecretReference{Name: name, TokenNameKey: "tokenName", TokenSecretKey: "tokenSecret"}}},
			TLS:  &v1.TLSSpec{CABundle: &v1.CABundleSource{Kind: "ConfigMap", Name: "tableau-ca", Key: "ca.crt"}},
			Consumers: &v1.ConsumersSpec{SecretName: name + "-tableau",
				RestartTargets: []v1.RestartTarget{{Kind: "Deployment", Name: name + "-app"}}},
		}})
}

func addPAT(sim *tableausim.Simulator, site, token string) (string, error) {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	secret := hex.EncodeToString(b)
	return secret, sim.AddPAT(site, tableausim.PAT{Name: token, Secret: secret, Expires: time.Now().Add(180 * 24 * time.Hour)})
}

func createFleet(ctx context.Context, k8s client.Client, ns string) error {
	return k8s.Create(ctx, &v1.TableauFleet{ObjectMeta: metav1.ObjectMeta{Name: "wave", Namespace: ns},
		Spec: v1.TableauFleetSpec{Selector: metav1.LabelSelector{MatchLabels: map[string]string{"fleet": "wave"}},
			Rollout: v1.FleetRollout{MaxConcurrent: fleetMaxConcurrent, PauseBetween: &metav1.Duration{Duration: fleetPause}}}})
}

// settledOn counts the connections that are Ready and idle with a token of the given suffix
// active and published, and returns the latest completion among them.
func settledOn(ctx context.Context, k8s client.Client, ns, suffix string) (int, time.Time, error) {
	var list v1.TableauConnectionList
	if err := k8s.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return 0, time.Time{}, err
	}
	n := 0
	var last time.Time
	for _, c := range list.Items {
		rs, cs := c.Status.Rotation, c.Status.Credentials
		if rs == nil || cs == nil || rs.Phase != v1.RotationIdle || rs.ActiveRevision == "" || rs.ActiveRevision != cs.Revision ||
			cs.TokenName != c.Name+suffix || !meta.IsStatusConditionTrue(c.Status.Conditions, v1.ConditionReady) {
			continue
		}
		n++
		if rs.LastCompletionTime != nil && rs.LastCompletionTime.After(last) {
			last = rs.LastCompletionTime.Time
		}
	}
	return n, last, nil
}

// cpuTime is the user and system CPU time the process pid has used (/proc/pid/stat).
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %q", pid, f[11:13])
	}
	// USER_HZ is 100 on every Linux the bench runs on.
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// rotate is the act: a new PAT for every tenant at once, then it waits until each has
// rotated to it, and prints and checks the cost per rotated tenant.
func rotate(ctx context.Context, k8s client.Client, opr *operator, proxy *apiProxy, sim *tableausim.Simulator, ns string, n int, rollout time.Duration) ([]string, error) {
	bound := waveBound(n, rollout)
	fmt.Printf("\nrotation: a new PAT into all %d source Secrets at once; fleet maxConcurrent %d, pauseBetween %s, rollouts of %s: bound ceil(N/%d) x %s + pauses = %s\n",
		n, fleetMaxConcurrent, fleetPause, rollout, fleetMaxConcurrent, rollout, bound)
	sim.ResetCalls()
	proxy.reset()
	// The heap profiles are taken outside the figures' window: serving one allocates.
	saveWaveHeap(opr, "before")
	cpu0, err := cpuTime(opr.cmd.Process.Pid)
	if err != nil {
		return nil, err
	}
	alloc0, err := scrape(opr.metricsAddr, allocatedMetric)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	cpuProfile := profileCPU(opr, bound)
	err = parallel(n, 16, func(i int) error {
		name := fmt.Sprintf("tenant-%04d", i)
		secret, err := addPAT(sim, name, name+"-v2")
		if err != nil {
			return err
		}
		s := &corev1.Secret{}
		if err := k8s.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, s); err != nil {
			return err
		}
		s.Data = map[string][]byte{"tokenName": []byte(name + "-v2"), "tokenSecret": []byte(secret)}
		return k8s.Update(ctx, s)
	})
	if err != nil {
		return nil, err
	}
	fmt.Printf("new PATs in all sources after %s\n", time.Since(start).Round(100*time.Millisecond))
	limit := 5*bound + 10*time.Minute
	lastReport := time.Now()
	for {
		done, _, err := settledOn(ctx, k8s, ns, "-v2")
		if err != nil {
			return nil, err
		}
		if done == n {
			break
		}
		if time.Since(lastReport) > 15*time.Second {
			fmt.Printf("  %s: %d of %d rotated\n", time.Since(start).Round(time.Second), done, n)
			lastReport = time.Now()
		}
		if time.Since(start) > limit {
			return nil, fmt.Errorf("only %d of %d tenants rotated after %s", done, n, limit)
		}
		time.Sleep(250 * time.Millisecond)
	}
	wave := time.Since(start)
	time.Sleep(5 * time.Second) // anything still in flight (the fleet's last grants, Events) lands in the counts
	cpu1, err := cpuTime(opr.cmd.Process.Pid)
	if err != nil {
		return nil, err
	}
	alloc1, err := scrape(opr.metricsAddr, allocatedMetric)
	if err != nil {
		return nil, err
	}
	if _, ok := alloc1[allocatedMetric]; !ok {
		return nil, fmt.Errorf("the operator's metrics have no %s", allocatedMetric)
	}
	r := rotationFigures{n: n, api: proxy.reset(), calls: sim.AllCalls(), cpu: cpu1 - cpu0,
		allocated: alloc1[allocatedMetric] - alloc0[allocatedMetric], wave: wave, bound: bound}
	saveWaveHeap(opr, "after")
	fmt.Printf("\n%d tenants rotated in %s against a bound of %s (x%.2f)\n", n, wave.Round(100*time.Millisecond), bound, wave.Seconds()/bound.Seconds())
	fmt.Printf("Tableau calls: %v\n", r.calls)
	fmt.Printf("API requests of the operator: %s\n", format(r.api))
	fmt.Println("per rotated tenant (the CPU figure is noisy on a shared machine):")
	byResource(r)
	if file := <-cpuProfile; file != "" {
		printCPUTop(file)
	}
	var problems []string
	for _, b := range rotationBudget {
		v := b.figure(r)
		verdict := "ok  "
		if v > b.budget {
			verdict = "FAIL"
			problems = append(problems, fmt.Sprintf("%s per rotated tenant %.2f is above its budget %g", b.what, v, b.budget))
		}
		fmt.Printf("  %s %-40s %8.2f  (budget %g)\n", verdict, b.what, v, b.budget)
	}
	return problems, nil
}

// byResource prints the requests per rotated tenant grouped by resource: writes, reads
// through the API reader (a GET of one object) and the cache's list and watch requests.
func byResource(r rotationFigures) {
	type row struct{ writes, reads, metaReads, cache int }
	rows := map[string]*row{}
	for k, v := range r.api {
		verb, res, _ := strings.Cut(k, " ")
		if verb == "discovery" {
			res = "discovery"
		}
		if rows[res] == nil {
			rows[res] = &row{}
		}
		switch verb {
		case "write":
			rows[res].writes += v
		case "get":
			rows[res].reads += v
		case "get-metadata":
			rows[res].metaReads += v
		default:
			rows[res].cache += v
		}
	}
	keys := make([]string, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Printf("  %-32s %8s %14s %14s %14s\n", "resource", "writes", "reads (API)", "metadata (API)", "list/watch")
	for _, k := range keys {
		w := rows[k]
		fmt.Printf("  %-32s %8.2f %14.2f %14.2f %14.2f\n", k, r.per(w.writes), r.per(w.reads), r.per(w.metaReads), r.per(w.cache))
	}
}

// profileCPU, when profiling (BENCH_PROFILE), records the operator's CPU profile over the
// wave's bound (from its --pprof-bind-address) and sends the file's name, or "" when it could
// not; without profiling it sends "" at once.
func profileCPU(opr *operator, bound time.Duration) <-chan string {
	done := make(chan string, 1)
	if opr.profileDir == "" {
		done <- ""
		return done
	}
	go func() {
		file := filepath.Join(opr.profileDir, "rotation-cpu.pb.gz")
		resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", opr.pprofAddr, int(bound.Seconds())))
		if err == nil {
			defer resp.Body.Close()
			var f *os.File
			if f, err = os.Create(file); err == nil {
				_, err = io.Copy(f, resp.Body)
				if cerr := f.Close(); err == nil {
					err = cerr
				}
			}
		}
		if err != nil {
			fmt.Println("CPU profile:", err)
			file = ""
		}
		done <- file
	}()
	return done
}

// saveWaveHeap, when profiling, saves a heap profile at the wave's start and end: the pair
// gives what the wave allocated (go tool pprof -sample_index=alloc_space -base before after).
func saveWaveHeap(opr *operator, when string) {
	if opr.profileDir == "" {
		return
	}
	if err := saveHeapProfile(opr.pprofAddr, filepath.Join(opr.profileDir, "rotation-heap-"+when+".pb.gz")); err != nil {
		fmt.Println("heap profile:", err)
	}
}

// printCPUTop prints where the operator spent its CPU during the wave, by cumulative time.
func printCPUTop(file string) {
	out, err := exec.Command("go", "tool", "pprof", "-top", "-cum", "-nodecount=45", file).CombinedOutput()
	if err != nil {
		fmt.Printf("go tool pprof %s: %v\n%s", file, err, out)
		return
	}
	fmt.Printf("CPU by cumulative time during the wave (%s):\n%s", file, out)
}
