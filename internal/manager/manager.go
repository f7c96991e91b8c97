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

// Package manager is the operator process itself, what `tableau-operator` runs without a
// subcommand: its flags and --help, the Go memory limit from the container's, the wait for the
// API server, and the controller-runtime manager with the controllers, metrics and probes.
package manager

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"os"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	tableauv1alpha1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/controllers"
	"github.com/tableau-operator/tableau-operator/internal/allowlist"
	"github.com/tableau-operator/tableau-operator/internal/apiwait"
	"github.com/tableau-operator/tableau-operator/internal/audit"
	"github.com/tableau-operator/tableau-operator/internal/watchnamespaces"
)

// Run runs the manager with its command-line flags (args without the program name) until a
// signal stops it, and returns the process's exit code: 0 after --help or a clean stop, 2 for
// a usage error, 1 when it could not start or stopped with an error.
func Run(args []string) int {
	fs := flag.NewFlagSet("tableau-operator", flag.ContinueOnError)
	var metricsAddr, probeAddr string
	var leaderElect bool
	var leaderElectionNamespace string
	var maxConcurrent int
	var qps float64
	var burst int
	var secureMetrics, enableHTTP2 bool
	var watchNamespaces string
	var installID string
	fs.StringVar(&metricsAddr, "metrics-bind-address", ":8443", "The address the metrics endpoint binds to; 0 disables it.")
	fs.BoolVar(&secureMetrics, "metrics-secure", true,
		"Serve metrics over HTTPS to callers whose token may get /metrics (TokenReview and SubjectAccessReview); false serves plain HTTP to anyone, for local use.")
	fs.BoolVar(&enableHTTP2, "enable-http2", false, "Allow HTTP/2 on the metrics server (off because of the HTTP/2 Rapid Reset and Stream Cancellation CVEs).")
	fs.StringVar(&watchNamespaces, "watch-namespaces", "",
		"Comma-separated namespaces to watch and write in (needs Roles there); empty watches every namespace (needs the ClusterRole).")
	fs.StringVar(&installID, "install-id", "",
		"This install's identity in the claim it holds on each TableauConnection (status.claim): another install that finds a live claim of this one acts on nothing there. Empty is <namespace>/"+leaderElectionID+", the namespace of the leader election Lease, which already makes the replicas that share it one install.")
	fs.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "The address the health probe endpoint binds to.")
	fs.BoolVar(&leaderElect, "leader-elect", false, "Enable leader election, so that only one replica reconciles at a time.")
	fs.StringVar(&leaderElectionNamespace, "leader-election-namespace", "",
		"The namespace of the leader election Lease; empty is the pod's own namespace, so outside a cluster --leader-elect needs it.")
	fs.IntVar(&maxConcurrent, "max-concurrent-reconciles", 4, "How many TableauConnections are validated at once.")
	// A rotation wave of 10 at a time asks about 80 requests per rotated tenant within seconds:
	// at 50 (100) the client's own limiter, not the rollouts, set the wave's pace (make bench,
	// BENCH_ROTATE=1: x2.2 of the wave's bound at 50, x1.4 at 200).
	fs.Float64Var(&qps, "kube-api-qps", 200, "Queries per second to the Kubernetes API server.")
	fs.IntVar(&burst, "kube-api-burst", 400, "Burst of queries to the Kubernetes API server.")
	allowedServers := fs.String("allowed-servers", "", "Comma-separated hosts the operator may send credentials to, e.g. *.online.tableau.com,tableau.example.com (*. matches one label); empty allows any host.")
	rt := bindRuntimeFlags(fs)
	opts := zap.Options{}
	opts.BindFlags(fs)
	// Audit lines share this logger: ts with nanoseconds orders a rotation's many lines a second.
	audit.UseTimeEncoder(&opts)
	// The flag package prints a bad flag's error itself; the whole usage only on --help.
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(fs)
			return 0
		}
		fmt.Fprintln(fs.Output(), "run `tableau-operator --help` for the subcommands and flags")
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unknown subcommand %q: run `tableau-operator --help` for the list\n", fs.Arg(0))
		return 2
	}
	allowed, err := allowlist.Parse(*allowedServers)
	if err != nil {
		fmt.Fprintln(fs.Output(), err)
		return 2
	}
	namespaces, err := watchnamespaces.Parse(watchNamespaces)
	if err != nil {
		fmt.Fprintln(fs.Output(), err)
		return 2
	}
	// GetConfig honours KUBECONFIG, in-cluster config and ~/.kube/config, in that order. It runs
	// before the logger is set: its own error log (a JSON stack trace when KUBECONFIG is unset and
	// the process is not in a pod) is dropped, and a person at a shell reads one line.
	cfg, err := ctrl.GetConfig()
	if err != nil {
		// One line that says what to do; a stack trace tells a person at a shell nothing more.
		fmt.Fprintf(os.Stderr, "tableau-operator: no Kubernetes configuration: run it in a cluster, set KUBECONFIG, or write ~/.kube/config (%s)\n", oneLine(err))
		return 1
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))
	log := ctrl.Log.WithName("setup")

	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(tableauv1alpha1.AddToScheme(scheme))

	// Secure metrics as kubebuilder scaffolds them: HTTPS (a self-signed certificate) and a filter
	// that asks the API server to review each caller's token and its right to get /metrics.
	metricsOpts := metricsserver.Options{BindAddress: metricsAddr, SecureServing: secureMetrics}
	if secureMetrics {
		metricsOpts.FilterProvider = filters.WithAuthenticationAndAuthorization
	}
	if !enableHTTP2 {
		metricsOpts.TLSOpts = append(metricsOpts.TLSOpts, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	}

	cfg.QPS, cfg.Burst = float32(qps), burst
	// After the configuration is known, so a person at a shell without one reads one line;
	// before the manager allocates its caches, so the garbage collector knows the limit.
	rt.applyMemoryLimit(log)
	ctx := ctrl.SetupSignalHandler()
	// A pod that starts during an API server outage waits here (liveness answering, readiness
	// failing, one log line per attempt) instead of exiting into a crash loop.
	probe, err := apiwait.ServerVersion(cfg)
	if err != nil {
		log.Error(err, "unable to build the Kubernetes API client")
		return 1
	}
	if err := apiwait.Wait(ctx, probe, probeAddr, apiwait.Policy, log); err != nil {
		if ctx.Err() != nil {
			log.Info("stopped while waiting for the Kubernetes API server")
			return 0
		}
		// The health probes could not be served while waiting (the kubelet would see a pod
		// that neither lives nor is ready), or the API server kept refusing the operator's
		// credentials or presenting an untrusted certificate (apiwait.RefusedAttempts): the
		// error says which, and the exit makes it a crash loop a person sees.
		log.Error(err, "unable to wait for the Kubernetes API server")
		return 1
	}
	mopts := managerOptions(leaderElect, leaderElectionNamespace)
	mopts.Scheme, mopts.Metrics, mopts.HealthProbeBindAddress, mopts.PprofBindAddress = scheme, metricsOpts, probeAddr, rt.pprofAddr
	mopts.Cache = watchnamespaces.Scope(controllers.CacheOptions(), namespaces)
	mgr, err := ctrl.NewManager(cfg, mopts)
	if err != nil {
		log.Error(err, "unable to create the manager")
		return 1
	}
	if installID == "" {
		installID = defaultInstallID(leaderElectionNamespace)
	}
	if err := controllers.SetupWithManager(mgr, maxConcurrent, allowed, installID); err != nil {
		log.Error(err, "unable to set up the controllers")
		return 1
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		log.Error(err, "unable to set up the health check")
		return 1
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		log.Error(err, "unable to set up the ready check")
		return 1
	}
	log.Info("starting the manager", "watchNamespaces", namespaces, "secureMetrics", secureMetrics, "installID", installID)
	if err := mgr.Start(ctx); err != nil {
		log.Error(err, "the manager stopped with an error")
		return 1
	}
	return 0
}
