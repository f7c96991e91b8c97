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
// the Tableau simulator on a local control plane, validated by the operator binary. It prints
// the time until all are Ready, Tableau calls and status writes per connection and the
// operator's heap, then watches BENCH_STEADY (default 2m) of steady state and prints the
// sign-ins and status writes in it (both must be 0 for unchanged connections).
package main

import (
	"bufio"
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
	flag.Parse()
	n := envInt("BENCH_CONNECTIONS", 1000)
	steady, err := time.ParseDuration(envOr("BENCH_STEADY", "2m"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "BENCH_STEADY:", err)
		os.Exit(2)
	}
	if err := run(*operator, n, steady); err != nil {
		fmt.Fprintln(os.Stderr, "bench failed:", err)
		os.Exit(1)
	}
}

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

func run(operatorBin string, n int, steady time.Duration) error {
	ctx := context.Background()
	env, err := testenv.Start()
	if err != nil {
		return err
	}
	defer func() { _ = env.Stop() }()
	cfg := *env.Config
	cfg.QPS, cfg.Burst = 500, 1000
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
	if err := k8s.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "tableau-ca", Namespace: ns}, Data: map[string]string{"ca.crt": string(srv.CAPEM)}}); err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	work := make(chan int)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				name := fmt.Sprintf("tenant-%04d", i)
				b := make([]byte, 16)
				_, _ = rand.Read(b)
				secret := hex.EncodeToString(b)
				sim.AddSite(name, name)
				if err := sim.AddPAT(name, tableausim.PAT{Name: name + "-op", Secret: secret, Expires: time.Now().Add(180 * 24 * time.Hour)}); err != nil {
					errs <- err
					continue
				}
				if err := k8s.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
					StringData: map[string]string{"tokenName": name + "-op", "tokenSecret": secret}}); err != nil {
					errs <- err
					continue
				}
				c := &v1.TableauConnection{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: v1.TableauConnectionSpec{
					Server: srv.URL, Site: name, APIVersion: "3.24",
					Auth: v1.AuthSpec{PersonalAccessToken: &v1.PersonalAccessTokenAuth{SecretRef: v1.PATSecretReference{Name: name, TokenNameKey: "tokenName", TokenSecretKey: "tokenSecret"}}},
					TLS:  &v1.TLSSpec{CABundle: &v1.CABundleSource{Kind: "ConfigMap", Name: "tableau-ca", Key: "ca.crt"}},
				}}
				if err := k8s.Create(ctx, c); err != nil {
					errs <- err
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		return err
	}

	metricsAddr, err := freePort()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "tableau-operator-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	logFile, err := os.Create(filepath.Join(dir, "operator.log"))
	if err != nil {
		return err
	}
	op := exec.Command(operatorBin, "--metrics-bind-address="+metricsAddr, "--metrics-secure=false", "--health-probe-bind-address=127.0.0.1:0", "--max-concurrent-reconciles=8")
	op.Env = append(os.Environ(), "KUBECONFIG="+env.KubeconfigPath)
	op.Stdout, op.Stderr = logFile, logFile
	start := time.Now()
	if err := op.Start(); err != nil {
		return err
	}
	defer func() { _ = op.Process.Signal(syscall.SIGTERM); _ = op.Wait() }()

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
		if ready == n {
			break
		}
		if time.Since(start) > 15*time.Minute {
			return fmt.Errorf("only %d of %d Ready after 15 minutes", ready, n)
		}
		time.Sleep(500 * time.Millisecond)
	}
	toReady := time.Since(start)
	metrics := []string{"tableau_operator_status_writes_total", "go_memstats_heap_inuse_bytes", "go_memstats_heap_alloc_bytes", "tableau_operator_signin_attempts_total"}
	m, err := scrape(metricsAddr, metrics...)
	if err != nil {
		return err
	}
	calls := sim.AllCalls()
	total := 0
	for _, c := range calls {
		total += c
	}
	fmt.Printf("\n%d connections Ready in %s\n", n, toReady.Round(100*time.Millisecond))
	fmt.Printf("Tableau calls: %v = %.2f per connection\n", calls, float64(total)/float64(n))
	fmt.Printf("status writes: %.0f = %.2f per connection\n", m["tableau_operator_status_writes_total"], m["tableau_operator_status_writes_total"]/float64(n))
	fmt.Printf("operator heap: %.1f MiB in use, %.1f MiB allocated\n", m["go_memstats_heap_inuse_bytes"]/(1<<20), m["go_memstats_heap_alloc_bytes"]/(1<<20))

	fmt.Printf("\nsteady state for %s (nothing changes)...\n", steady)
	sim.ResetCalls()
	before := m
	time.Sleep(steady)
	after, err := scrape(metricsAddr, metrics...)
	if err != nil {
		return err
	}
	fmt.Printf("in %s of steady state: %d sign-ins, %.0f status writes, Tableau calls %v; heap %.1f MiB in use\n", steady,
		sim.Calls("auth/signin"), after["tableau_operator_status_writes_total"]-before["tableau_operator_status_writes_total"],
		sim.AllCalls(), after["go_memstats_heap_inuse_bytes"]/(1<<20))
	if sim.Calls("auth/signin") != 0 || after["tableau_operator_status_writes_total"] != before["tableau_operator_status_writes_total"] {
		return fmt.Errorf("steady state is not quiet")
	}
	return nil
}
