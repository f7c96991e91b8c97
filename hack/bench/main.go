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

// Command bench is `make bench`: BENCH_CONNECTIONS (default 1000) TableauConnections against
// the Tableau simulator on a local control plane, validated by the operator binary, which
// reaches the API server through a proxy that counts its requests. It prints the time until
// all are Ready, Tableau calls and status writes per connection and the operator's heap, then
// watches BENCH_STEADY (default 2m) of steady state and prints the sign-ins and status writes
// in it (both must be 0 for unchanged connections). Then it restarts the operator three times
// alone and three times beside BENCH_UNRELATED (default 20000) unrelated 2 KiB Secrets, and
// prints for each restart the sign-ins, serverinfo calls, API writes and Secret content reads
// (0, at most 1, 0, 0) and the peak RSS; the two cases' median peak RSS must agree within 10%.
//
// The operator runs as the chart runs it: under the chart's default memory limit
// (resources.limits.memory), which it reads from a cgroup memory.max as in a pod. The bench
// prints the peak RSS of the first start and of every restart and the heap in use after the
// steady state, each also per connection, and fails when a peak crosses the chart's limit or
// a figure its budget (memory.go). BENCH_PROFILE=dir writes the operator's heap profiles to
// dir, at Ready and at each restart's highest RSS, and prints their top allocators.
//
// BENCH_ROTATE=1 runs the rotation act (rotation.go) instead of the steady state and the
// restarts: the tenants are one fleet's members with consumers and a Deployment each, and
// the bench prints and checks what rotating all of them to a new PAT costs per tenant.
//
// BENCH_AUTOMATIC=1 runs the automatic-rotation act (automatic.go) instead of all the above:
// BENCH_CONNECTIONS (default 20 there) tenants on connected apps, each rotating its secret
// itself every BENCH_AUTOMATIC_EVERY (1m), and the cost per completed automatic rotation.
package main

import (
	"bufio"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/tableausim"
	"github.com/tableau-operator/tableau-operator/internal/testenv"
)

func main() {
	operator := flag.String("operator", "bin/tableau-operator", "the operator binary")
	flag.StringVar(&chartValues, "chart-values", "config/helm/tableau-operator/values.yaml", "the chart's values, whose memory limit the operator runs under")
	flag.Parse()
	n := envInt("BENCH_CONNECTIONS", 1000)
	steady, err := time.ParseDuration(envOr("BENCH_STEADY", "2m"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "BENCH_STEADY:", err)
		os.Exit(2)
	}
	rollout, err := time.ParseDuration(envOr("BENCH_ROLLOUT", "3s"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "BENCH_ROLLOUT:", err)
		os.Exit(2)
	}
	if os.Getenv("BENCH_ROTATE") == "1" {
		rotateRollout = rollout
	}
	if os.Getenv("BENCH_AUTOMATIC") == "1" {
		// The automatic-rotation act (automatic.go) instead of everything else; it runs the
		// operator with its default flags, as the rotation act does.
		rotateRollout = rollout
		if err := runAutomatic(*operator, envInt("BENCH_CONNECTIONS", 20), rollout); err != nil {
			fmt.Fprintln(os.Stderr, "bench failed:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*operator, n, envInt("BENCH_UNRELATED", 20000), steady); err != nil {
		fmt.Fprintln(os.Stderr, "bench failed:", err)
		os.Exit(1)
	}
}

// chartValues is the chart's values file (--chart-values).
var chartValues string

// rotateRollout, when not 0 (BENCH_ROTATE=1), runs the rotation act instead of the steady
// state and the restarts: tenants are fleet members with consumers and a Deployment each that
// rolls out in rotateRollout (BENCH_ROLLOUT).
var rotateRollout time.Duration

func envOr(k, d string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return d
}

func envInt(k string, d int) int {
	if v, err := strconv.Atoi(os.Getenv(k)); err == nil && v > 0 {
		return v
	}
	return d
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// scrape reads the operator's metrics endpoint and returns the named samples, summed over labels.
func scrape(addr string, names ...string) (map[string]float64, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		for _, n := range names {
			if strings.HasPrefix(line, n+" ") || strings.HasPrefix(line, n+"{") {
				fields := strings.Fields(line)
				v, _ := strconv.ParseFloat(fields[len(fields)-1], 64)
				out[n] += v
			}
		}
	}
	return out, sc.Err()
}

func run(operatorBin string, n, unrelated int, steady time.Duration) error {
	ctx := context.Background()
	env, err := testenv.Start()
	if err != nil {
		return err
	}
	defer func() { _ = env.Stop() }()
	cfg := *env.Config
	cfg.QPS, cfg.Burst = 2000, 4000
	k8s, err := client.New(&cfg, client.Options{Scheme: testenv.Scheme()})
	if err != nil {
		return err
	}

	sim := tableausim.New(tableausim.Config{RESTAPIVersion: "3.24"})
	srv, err := sim.ServeTLS("127.0.0.1:0")
	if err != nil {
		return err
	}
	defer srv.Close()

	fmt.Printf("creating %d tenants (a site, a PAT, a Secret and a TableauConnection each)\n", n)
	ns := "bench"
	if err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		return err
	}
	consent := map[string]string{v1.LabelCredential: v1.CredentialConsent}
	if err := k8s.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "tableau-ca", Namespace: ns, Labels: consent}, Data: map[string]string{"ca.crt": string(srv.CAPEM)}}); err != nil {
		return err
	}
	create := func(i int) error {
		name := fmt.Sprintf("tenant-%04d", i)
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		secret := hex.EncodeToString(b)
		sim.AddSite(name, name)
		if err := sim.AddPAT(name, tableausim.PAT{Name: name + "-op", Secret: secret, Expires: time.Now().Add(180 * 24 * time.Hour)}); err != nil {
			return err
		}
		if err := k8s.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: consent},
			StringData: map[string]string{"tokenName": name + "-op", "tokenSecret": secret}}); err != nil {
			return err
		}
		return k8s.Create(ctx, &v1.TableauConnection{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: v1.TableauConnectionSpec{
			Server: srv.URL, Site: name, APIVersion: "3.24",
			Auth: v1.AuthSpec{PersonalAccessToken: &v1.PersonalAccessTokenAuth{SecretRef: v1.PATSecretReference{Name: name, TokenNameKey: "tokenName", TokenSecretKey: "tokenSecret"}}},
			TLS:  &v1.TLSSpec{CABundle: &v1.CABundleSource{Kind: "ConfigMap", Name: "tableau-ca", Key: "ca.crt"}},
		}})
	}
	if rotateRollout > 0 {
		if err := createFleet(ctx, k8s, ns); err != nil {
			return err
		}
		create = func(i int) error { return createRotationTenant(ctx, k8s, sim, srv, ns, i) }
		// envtest runs no controllers: the bench plays the Deployment controller, with its
		// own client, so the proxy counts the operator alone.
		standIn, stop := context.WithCancel(ctx)
		defer stop()
		go testenv.PlayDeploymentController(standIn, k8s, ns, rotateRollout, nil)
	}
	if err := parallel(n, 16, create); err != nil {
		return err
	}

	proxy, opr, cleanup, err := proxiedOperator(env.Config, operatorBin)
	if err != nil {
		return err
	}
	defer cleanup()
	if rotateRollout > 0 {
		opr.consumers = n // every tenant has a consumer Secret and a Deployment
	}
	opr.profileDir = os.Getenv("BENCH_PROFILE")
	if opr.profileDir != "" {
		if err := os.MkdirAll(opr.profileDir, 0o755); err != nil {
			return err
		}
	}
	fmt.Printf("the operator runs under the chart's memory limit of %s (cgroup memory.max); budget: peak RSS %s, steady heap in use %s\n",
		mib(opr.limit), mib(min(peakBudget(n, opr.consumers), opr.limit)), mib(heapBudget(n)))

	start := time.Now()
	if err := opr.start(); err != nil {
		return err
	}
	defer opr.stop()
	fmt.Println("operator started; waiting until every connection is Ready")
	for {
		var list v1.TableauConnectionList
		if err := k8s.List(ctx, &list, client.InNamespace(ns)); err != nil {
			return err
		}
		ready := 0
		for _, c := range list.Items {
			if meta.IsStatusConditionTrue(c.Status.Conditions, v1.ConditionReady) {
				ready++
			}
		}
		if rotateRollout > 0 {
			// Ready and the first PAT published: the first rollout is no rotation.
			if ready, _, err = settledOn(ctx, k8s, ns, "-v1"); err != nil {
				return err
			}
		}
		if ready == n {
			break
		}
		if time.Since(start) > 15*time.Minute {
			return fmt.Errorf("only %d of %d Ready after 15 minutes", ready, n)
		}
		time.Sleep(500 * time.Millisecond)
	}
	toReady := time.Since(start)
	startPeak, err := opr.peakRSS()
	if err != nil {
		return err
	}
	var problems []string
	problems = append(problems, opr.checkPeak("the first start", startPeak, n)...)
	if opr.profileDir != "" {
		if err := saveHeapProfile(opr.pprofAddr, filepath.Join(opr.profileDir, "ready.pb.gz")); err != nil {
			return err
		}
	}
	metrics := []string{"tableau_operator_status_writes_total", "go_memstats_heap_inuse_bytes", "go_memstats_heap_alloc_bytes", "tableau_operator_signin_attempts_total"}
	m, err := scrape(opr.metricsAddr, metrics...)
	if err != nil {
		return err
	}
	calls := sim.AllCalls()
	total := 0
	for _, c := range calls {
		total += c
	}
	api := proxy.reset()
	fmt.Printf("\n%d connections Ready in %s\n", n, toReady.Round(100*time.Millisecond))
	fmt.Printf("Tableau calls: %v = %.2f per connection\n", calls, float64(total)/float64(n))
	fmt.Printf("status writes: %.0f = %.2f per connection\n", m["tableau_operator_status_writes_total"], m["tableau_operator_status_writes_total"]/float64(n))
	fmt.Printf("operator heap: %.1f MiB in use, %.1f MiB allocated\n", m["go_memstats_heap_inuse_bytes"]/(1<<20), m["go_memstats_heap_alloc_bytes"]/(1<<20))
	fmt.Printf("peak RSS at the first start: %s = %s\n", mib(startPeak), perConn(startPeak, n))
	fmt.Printf("API requests of the operator: %s\n", format(api))
	if rotateRollout > 0 {
		p, err := rotate(ctx, k8s, opr, proxy, sim, ns, n, rotateRollout)
		if err != nil {
			return err
		}
		if problems = append(problems, p...); len(problems) > 0 {
			return fmt.Errorf("%s", strings.Join(problems, "; "))
		}
		return nil
	}

	fmt.Printf("\nsteady state for %s (nothing changes)...\n", steady)
	sim.ResetCalls()
	before := m
	time.Sleep(steady)
	after, err := scrape(opr.metricsAddr, metrics...)
	if err != nil {
		return err
	}
	api = proxy.reset()
	fmt.Printf("in %s of steady state: %d sign-ins, %.0f status writes, Tableau calls %v; heap %.1f MiB in use\n", steady,
		sim.Calls("auth/signin"), after["tableau_operator_status_writes_total"]-before["tableau_operator_status_writes_total"],
		sim.AllCalls(), after["go_memstats_heap_inuse_bytes"]/(1<<20))
	fmt.Printf("API requests of the operator: %s\n", format(api))
	steadyHeap := after["go_memstats_heap_inuse_bytes"]
	steadyRSS, err := procStatus(opr.cmd.Process.Pid, "VmRSS")
	if err != nil {
		return err
	}
	fmt.Printf("heap in use in steady state: %s = %s; RSS %s = %s\n", mib(steadyHeap), perConn(steadyHeap, n), mib(steadyRSS), perConn(steadyRSS, n))
	if steadyHeap > heapBudget(n) {
		problems = append(problems, fmt.Sprintf("heap in use in steady state %s is above its budget %s", mib(steadyHeap), mib(heapBudget(n))))
	}
	if sim.Calls("auth/signin") != 0 || after["tableau_operator_status_writes_total"] != before["tableau_operator_status_writes_total"] || writes(api) != 0 {
		return fmt.Errorf("steady state is not quiet")
	}

	// Restarts: the same 1,000 unchanged connections, first alone, then beside 20,000
	// Secrets that have nothing to do with Tableau.
	r0, err := restarts(opr, proxy, sim, n, 0, &problems)
	if err != nil {
		return err
	}
	fmt.Printf("\ncreating %d unrelated Secrets of 2 KiB (no credential label) in namespace unrelated\n", unrelated)
	if err := createUnrelated(ctx, k8s, unrelated); err != nil {
		return err
	}
	r1, err := restarts(opr, proxy, sim, n, unrelated, &problems)
	if err != nil {
		return err
	}
	ratio := r1.peakRSS / r0.peakRSS
	fmt.Printf("\nmedian peak RSS of the operator over %d restarts: %.1f MiB with 0 unrelated Secrets, %.1f MiB with %d: x%.3f\n", restartsPerCase,
		r0.peakRSS/(1<<20), r1.peakRSS/(1<<20), unrelated, ratio)
	fmt.Printf("memory at %d connections: peak RSS at the first start %s (%s), at restarts up to %s (%s); steady heap in use %s (%s); limit %s\n",
		n, mib(startPeak), perConn(startPeak, n), mib(opr.maxRestartPeak), perConn(opr.maxRestartPeak, n), mib(steadyHeap), perConn(steadyHeap, n), mib(opr.limit))
	if opr.profileDir != "" {
		printTop(filepath.Join(opr.profileDir, "ready.pb.gz"), "inuse_space")
		if opr.peakProfile != "" {
			printTop(opr.peakProfile, "inuse_space")
			printTop(opr.peakProfile, "alloc_space")
		}
	}
	if ratio > 1.10 || ratio < 0.90 {
		problems = append(problems, fmt.Sprintf("peak RSS differs by more than 10%% (x%.3f)", ratio))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return nil
}

// operator runs the operator binary through the counting proxy.
type operator struct {
	bin, kubeconfig string
	log             *os.File
	cmd             *exec.Cmd
	metricsAddr     string
	// cgroupRoot holds the memory.max of the chart's limit, which is limit.
	cgroupRoot string
	limit      float64
	// profileDir (BENCH_PROFILE) turns on the pprof endpoint at pprofAddr; peakProfile is
	// the profile taken at the highest RSS of any restart, maxRestartPeak that peak.
	profileDir, pprofAddr string
	peakProfile           string
	maxRestartPeak        float64
	starts                int
	// consumers is how many of the connections have spec.consumers (the memory budget).
	consumers int
}

// checkPeak returns a problem when a peak RSS crosses the chart's limit or the budget.
func (o *operator) checkPeak(what string, peak float64, n int) []string {
	var p []string
	if peak > o.limit {
		p = append(p, fmt.Sprintf("peak RSS at %s %s crosses the chart's memory limit %s", what, mib(peak), mib(o.limit)))
	}
	if b := peakBudget(n, o.consumers); peak > b {
		p = append(p, fmt.Sprintf("peak RSS at %s %s is above its budget %s", what, mib(peak), mib(b)))
	}
	return p
}

func (o *operator) start() error {
	addr, err := freePort()
	if err != nil {
		return err
	}
	o.metricsAddr = addr
	args := []string{"--metrics-bind-address=" + addr, "--metrics-secure=false", "--health-probe-bind-address=127.0.0.1:0",
		"--allowed-servers=127.0.0.1", "--cgroup-root=" + o.cgroupRoot}
	if rotateRollout == 0 {
		// The validation figures in the README were measured with 8 workers; the rotation
		// act measures the defaults, as a platform team would install the chart.
		args = append(args, "--max-concurrent-reconciles=8")
	}
	// BENCH_OPERATOR_FLAGS adds flags, e.g. to compare --kube-api-qps values.
	args = append(args, strings.Fields(os.Getenv("BENCH_OPERATOR_FLAGS"))...)
	if o.profileDir != "" {
		if o.pprofAddr, err = freePort(); err != nil {
			return err
		}
		args = append(args, "--pprof-bind-address="+o.pprofAddr)
	}
	o.starts++
	o.cmd = exec.Command(o.bin, args...)
	o.cmd.Env = append(containerEnv(), "KUBECONFIG="+o.kubeconfig)
	o.cmd.Stdout, o.cmd.Stderr = o.log, o.log
	return o.cmd.Start()
}

// peakRSS is the operator's peak resident set size (VmHWM), in bytes.
func (o *operator) peakRSS() (float64, error) { return procStatus(o.cmd.Process.Pid, "VmHWM") }

// profileAtPeak, when profiling, saves a heap profile whenever the RSS has grown by 5% over
// the highest seen in this run of the operator, so the last one saved is near its peak.
func (o *operator) profileAtPeak(highest *float64) {
	if o.profileDir == "" {
		return
	}
	rss, err := procStatus(o.cmd.Process.Pid, "VmRSS")
	if err != nil || rss < *highest*1.05 {
		return
	}
	*highest = rss
	file := filepath.Join(o.profileDir, fmt.Sprintf("restart-%d-peak.pb.gz", o.starts-1))
	if err := saveHeapProfile(o.pprofAddr, file); err != nil {
		fmt.Println("heap profile:", err)
	}
}

func (o *operator) stop() {
	if o.cmd == nil {
		return
	}
	_ = o.cmd.Process.Signal(syscall.SIGTERM)
	_ = o.cmd.Wait()
	o.cmd = nil
}

// restartResult is what a restarted operator did until it settled.
type restartResult struct {
	unrelated                           int
	signIns, serverinfo, otherCalls     int
	writes, secretReads, secretMetaRead int
	peakRSS                             float64
}

func (r restartResult) problems() []string {
	var p []string
	if r.signIns != 0 || r.serverinfo > 1 || r.otherCalls != 0 || r.writes != 0 || r.secretReads != 0 {
		p = append(p, fmt.Sprintf("restart beside %d unrelated Secrets was not quiet: %+v", r.unrelated, r))
	}
	return p
}

// restartsPerCase is how many restarts each case of the memory comparison takes: one start's
// peak RSS moves by 10-20% with the moment the garbage collector runs, the median of three
// much less.
const restartsPerCase = 3

// restarts restarts the operator restartsPerCase times, adds every restart's problems, and
// returns the restart with the median peak RSS.
func restarts(o *operator, proxy *apiProxy, sim *tableausim.Simulator, n, unrelated int, problems *[]string) (restartResult, error) {
	var all []restartResult
	for range restartsPerCase {
		r, err := restart(o, proxy, sim, n, unrelated)
		if err != nil {
			return restartResult{}, err
		}
		*problems = append(*problems, r.problems()...)
		*problems = append(*problems, o.checkPeak(fmt.Sprintf("restart %d", o.starts-1), r.peakRSS, n)...)
		if r.peakRSS > o.maxRestartPeak {
			o.maxRestartPeak = r.peakRSS
			if o.profileDir != "" {
				o.peakProfile = filepath.Join(o.profileDir, fmt.Sprintf("restart-%d-peak.pb.gz", o.starts-1))
			}
		}
		all = append(all, r)
	}
	slices.SortFunc(all, func(a, b restartResult) int { return cmp.Compare(a.peakRSS, b.peakRSS) })
	return all[len(all)/2], nil
}

// restart stops the operator, starts it again, waits until it has reconciled every
// connection and its queue is empty, and reports the Tableau calls, the API requests and
// the peak RSS of the new process.
func restart(o *operator, proxy *apiProxy, sim *tableausim.Simulator, n, unrelated int) (restartResult, error) {
	fmt.Printf("\nrestarting the operator (%d unchanged connections, %d unrelated Secrets)\n", n, unrelated)
	o.stop()
	sim.ResetCalls()
	proxy.reset()
	started := time.Now()
	if err := o.start(); err != nil {
		return restartResult{}, err
	}
	highest := 0.0
	for {
		o.profileAtPeak(&highest)
		m, err := scrape(o.metricsAddr, "controller_runtime_reconcile_total", "workqueue_depth")
		if err == nil && m["controller_runtime_reconcile_total"] >= float64(n) && m["workqueue_depth"] == 0 {
			break
		}
		if time.Since(started) > 10*time.Minute {
			return restartResult{}, fmt.Errorf("the restarted operator did not settle in 10 minutes (metrics %v, error %v)", m, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	settled := time.Since(started)
	time.Sleep(5 * time.Second) // anything still in flight lands in the counts
	rss, err := o.peakRSS()
	if err != nil {
		return restartResult{}, err
	}
	api := proxy.reset()
	calls := sim.AllCalls()
	r := restartResult{unrelated: unrelated, signIns: calls["auth/signin"], serverinfo: calls["serverinfo"],
		writes: writes(api), secretReads: api["get secrets"], secretMetaRead: api["get-metadata secrets"], peakRSS: rss}
	for k, v := range calls {
		if k != "auth/signin" && k != "serverinfo" {
			r.otherCalls += v
		}
	}
	fmt.Printf("settled in %s: %d sign-ins, %d serverinfo calls (1 server), %d writes, %d Secret content reads, %d Secret metadata reads; peak RSS %s = %s\n",
		settled.Round(100*time.Millisecond), r.signIns, r.serverinfo, r.writes, r.secretReads, r.secretMetaRead, mib(rss), perConn(rss, n))
	fmt.Printf("API requests of the restarted operator: %s\n", format(api))
	return r, nil
}

// createUnrelated creates n Secrets of 2 KiB that carry no credential label.
func createUnrelated(ctx context.Context, k8s client.Client, n int) error {
	ns := "unrelated"
	if err := k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		return err
	}
	return parallel(n, 32, func(i int) error {
		blob := make([]byte, 2048)
		_, _ = rand.Read(blob)
		return k8s.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("unrelated-%05d", i), Namespace: ns,
			Labels: map[string]string{"app": "unrelated"}}, Data: map[string][]byte{"blob": blob}})
	})
}

// parallel runs f for 0..n-1 on workers goroutines and returns the first error.
func parallel(n, workers int, f func(i int) error) error {
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	work := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := f(i); err != nil {
					once.Do(func() { first = err })
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	return first
}
