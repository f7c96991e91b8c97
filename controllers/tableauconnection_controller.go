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

// Package controllers holds the operator's reconcilers.
package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
	"github.com/tableau-operator/tableau-operator/internal/allowlist"
	"github.com/tableau-operator/tableau-operator/internal/backoff"
	"github.com/tableau-operator/tableau-operator/internal/gatedclient"
	"github.com/tableau-operator/tableau-operator/internal/metrics"
	"github.com/tableau-operator/tableau-operator/internal/serverinfo"
	"github.com/tableau-operator/tableau-operator/internal/tableau"
)

// +kubebuilder:rbac:groups=tableau-operator.dev,resources=tableauconnections,verbs=get;list;watch
// +kubebuilder:rbac:groups=tableau-operator.dev,resources=tableauconnections/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=secrets;configmaps,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Defaults of the validation policy.
const (
	DefaultServerCheckInterval = 10 * time.Minute
	DefaultPeriodicInterval    = 24 * time.Hour
	// SlowRecheck is how long a terminal failure waits before the operator tries the same
	// input again; a change of the spec or the Secret retries at once.
	SlowRecheck = time.Hour
	// historyLength is how many validation attempts status keeps.
	historyLength = 10
)

// Field index names.
const (
	indexSecretRef   = "tableau-operator.dev/secretRef"
	indexCABundleRef = "tableau-operator.dev/caBundleRef"
)

// TableauConnectionReconciler validates TableauConnections.
type TableauConnectionReconciler struct {
	client.Client
	// APIReader reads Secrets and ConfigMaps directly: the cache holds only the metadata of
	// labelled ones.
	APIReader client.Reader
	Events    events.EventRecorder
	// ServerInfo shares serverinfo answers between connections to one server.
	ServerInfo *serverinfo.Cache
	// Backoff paces retries of transient failures.
	Backoff backoff.Policy
	// AllowedServers are the hosts the operator may send credentials to (--allowed-servers);
	// the zero value allows every host.
	AllowedServers allowlist.List
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// CrashHook, when set, runs right after each rotation phase is persisted and before its
	// action, and with phase "" at the start of every reconcile; returning ErrCrash stops the
	// reconcile there, as a killed operator would. Tests use it.
	CrashHook func(phase string) error

	// InstallID names this install in the claims it holds on connections (--install-id);
	// DefaultInstallID when empty. ClaimDuration is how long a claim lasts after its renewal;
	// DefaultClaimDuration when zero. See claim.
	InstallID     string
	ClaimDuration time.Duration

	// adminLocks lets one reconcile at a time hold a session of an administrator PAT.
	adminLocks adminLocks
	// mem is what this process remembers between reconciles (see memory).
	mem memory

	// The fields above are the reconciler's configuration and the process's memory. The
	// phases (phases.go) are built from them once, each holding what it uses; the reconciler
	// keeps what Reconcile and finish need: the connection's reads, the memory, statusWriter
	// (finish's patch) and Events (finish's transition events).
	buildOnce sync.Once
	phaseSet  *connectionPhases
	phaseList []phase
	statusWriter
}

// unseenRef is a Secret or ConfigMap a connection names that the cache does not hold.
type unseenRef struct {
	kind, name, role string
}

// scope carries one reconcile's object and the facts its steps discover.
type scope struct {
	conn *v1.TableauConnection
	now  time.Time
	// before is the status last written, the base of the next patch.
	before *v1.TableauConnection

	secretName string
	revision   string
	ident      credentialIdent
	credErr    error
	cred       *signInCredential
	caPEM      []byte

	// refusal is what forbids using the inputs at all (refuse records it before any call);
	// unseen are the Secrets and ConfigMaps the cache does not hold.
	refusal error
	unseen  []unseenRef
	// sourceReadable is set when the cache showed the source Secret's consent label; then
	// sourceResourceVersion and sourceUID name the version whose content was read.
	sourceReadable bool
	// fromIssued: the credential comes from the operator's issued Secret (rotation.automatic).
	fromIssued                       bool
	sourceResourceVersion, sourceUID string

	// nameTaken: a Secret name the operator would write is held by someone else's Secret.
	nameTaken bool
	// consumers is what the rotation's last observation saw of the consumer Secret (nil
	// when this reconcile did not look).
	consumers *consumersSeen

	// client is the connection's gated Tableau client: every call goes through its gate.
	client       *gatedclient.Client
	requeueAfter time.Duration
	// standingAside: another install holds the connection's claim; this reconcile writes
	// the claim and the Claimed condition only.
	standingAside bool
	// claim is a claim to write with the next status write (phase_claim.go).
	claim pendingClaim
	// wrote is set once this reconcile patched status: the patch's response is the server's
	// copy, so conn is fresh as of that write and a locked patch that changes nothing need
	// not be sent to prove it.
	wrote bool
}

func (s *scope) requeueIn(d time.Duration) {
	if d <= 0 {
		d = time.Second
	}
	if s.requeueAfter == 0 || d < s.requeueAfter {
		s.requeueAfter = d
	}
}

// Reconcile runs the connection's phases (see phases) and hands their outcome to finish, the
// one place it becomes status, events and a result.
func (r *TableauConnectionReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, reterr error) {
	if r.CrashHook != nil {
		if err := r.CrashHook(""); err != nil {
			return ctrl.Result{}, err
		}
	}
	phases := r.phases()
	conn := &v1.TableauConnection{}
	defer r.noteConflict(req.NamespacedName, &reterr)
	if err := r.readConnection(ctx, req.NamespacedName, conn); err != nil {
		if apierrors.IsNotFound(err) {
			metrics.DeleteConnection(req.Namespace, req.Name)
			r.mem.Forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !conn.DeletionTimestamp.IsZero() {
		metrics.DeleteConnection(req.Namespace, req.Name)
		r.mem.Forget(req.NamespacedName)
		return ctrl.Result{}, nil
	}
	if r.mem.behindOwnPhase(conn, time.Now()) { // cache latency: the wall clock, not r.now
		// The cached copy predates the rotation step this process persisted last. Nothing
		// is decided or written from it: the rollout would take the step again, and the
		// status patch would put back conditions computed from the old phase. A status
		// write wakes no reconcile (the watch filters on generation), so look again in a
		// moment, when the cache has it.
		return ctrl.Result{RequeueAfter: ownWriteRecheck}, nil
	}
	original := conn.DeepCopy()
	s := &scope{conn: conn, now: r.now(), before: original}
	o := proceeded()
	if !conn.Spec.Suspend {
		o = runPhases(ctx, s, phases)
	}
	return r.finish(ctx, s, original, o)
}

// handleRequest acts on a new tableau-operator.dev/requested-at annotation: validate again
// now, and retry a failed or rejected rotation.
func handleRequest(conn *v1.TableauConnection) {
	v := conn.Annotations[v1.AnnotationRequestedAt]
	if v == "" || v == conn.Status.LastHandledRequest {
		return
	}
	conn.Status.LastHandledRequest = v
	if f := conn.Status.LastFailure; f != nil {
		f.NextAttemptTime = nil
	}
	if c := conn.Status.Credentials; c != nil {
		c.LastAttemptRevision = ""
	}
	if rs := conn.Status.Rotation; rs != nil && rs.FailedRevision != "" {
		// The planner leaves Failed for Idle once no rejection is recorded.
		rs.FailedRevision, rs.FailedEndpoint, rs.Message = "", "", "Retry requested."
	}
}

func (r *TableauConnectionReconciler) now() time.Time { return wallClock{Now: r.Now}.now() }

// SetupWithManager registers every reconciler of the operator with mgr; installID names the
// install in the claims it holds on connections (see claim).
func SetupWithManager(mgr ctrl.Manager, maxConcurrent int, allowedServers allowlist.List, installID string) error {
	r := &TableauConnectionReconciler{
		Client:         mgr.GetClient(),
		APIReader:      mgr.GetAPIReader(),
		Events:         mgr.GetEventRecorder("tableau-operator"),
		ServerInfo:     serverinfo.NewCache(nil),
		Backoff:        backoff.Default,
		AllowedServers: allowedServers,
		InstallID:      installID,
	}
	if err := r.SetupWithManager(mgr, maxConcurrent); err != nil {
		return err
	}
	fleet := &TableauFleetReconciler{Client: mgr.GetClient(), Events: mgr.GetEventRecorder("tableau-operator"), InstallID: installID}
	return fleet.SetupWithManager(mgr)
}

// SetupWithManager wires the reconciler: TableauConnections, plus the metadata of the labelled
// Secrets and ConfigMaps they reference (see CacheOptions), found through field indexes.
func (r *TableauConnectionReconciler) SetupWithManager(mgr ctrl.Manager, maxConcurrent int) error {
	ctx := context.Background()
	r.built()
	// The state metrics read connections and fleets from this manager's cache at scrape time.
	if err := metrics.RegisterState(mgr.GetCache()); err != nil {
		return err
	}
	idx := mgr.GetFieldIndexer()
	if err := idx.IndexField(ctx, &v1.TableauConnection{}, indexSecretRef, func(o client.Object) []string {
		c := o.(*v1.TableauConnection)
		var refs []string
		refs = append(refs, sourceSecretName(c))
		if a := automatic(c); a != nil {
			refs = append(refs, a.AdminSecretRef.Name, issuedName(c))
		}
		if a := c.Spec.Validation.AdminSecretRef; a != nil {
			refs = append(refs, a.Name)
		}
		if tls := c.Spec.TLS; tls != nil && tls.CABundle != nil && tls.CABundle.Kind == "Secret" {
			refs = append(refs, tls.CABundle.Name)
		}
		if c.Spec.Consumers != nil {
			// A consumer Secret deleted or taken by someone else is noticed at once.
			refs = append(refs, c.Spec.Consumers.SecretName, candidateName(c), previousName(c))
		}
		return refs
	}); err != nil {
		return err
	}
	if err := idx.IndexField(ctx, &v1.TableauConnection{}, indexCABundleRef, func(o client.Object) []string {
		c := o.(*v1.TableauConnection)
		if tls := c.Spec.TLS; tls != nil && tls.CABundle != nil && tls.CABundle.Kind == "ConfigMap" {
			return []string{tls.CABundle.Name}
		}
		return nil
	}); err != nil {
		return err
	}
	if err := idx.IndexField(ctx, &v1.TableauConnection{}, indexRestartTarget, restartTargetKeys); err != nil {
		return err
	}
	secretMeta := &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}}
	configMapMeta := &metav1.PartialObjectMetadata{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}}
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1.TableauConnection{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		Watches(secretMeta, handler.EnqueueRequestsFromMapFunc(r.referencing(indexSecretRef)), builder.OnlyMetadata).
		Watches(configMapMeta, handler.EnqueueRequestsFromMapFunc(r.referencing(indexCABundleRef)), builder.OnlyMetadata).
		Watches(&v1.TableauFleet{}, fleetGrants{r}).
		Watches(&appsv1.Deployment{}, handler.EnqueueRequestsFromMapFunc(r.targetsOf("Deployment"))).
		Watches(&appsv1.StatefulSet{}, handler.EnqueueRequestsFromMapFunc(r.targetsOf("StatefulSet"))).
		Watches(&appsv1.DaemonSet{}, handler.EnqueueRequestsFromMapFunc(r.targetsOf("DaemonSet"))).
		WithOptions(controller.Options{MaxConcurrentReconciles: max(maxConcurrent, 1)}).
		Complete(r)
}

// referencing maps a Secret or ConfigMap to the connections in its namespace that name it.
func (r *TableauConnectionReconciler) referencing(index string) handler.MapFunc {
	return func(ctx context.Context, o client.Object) []ctrl.Request {
		var list v1.TableauConnectionList
		// Only names are read: the cache's objects, not copies.
		if err := r.List(ctx, &list, client.InNamespace(o.GetNamespace()), client.MatchingFields{index: o.GetName()}, client.UnsafeDisableDeepCopy); err != nil {
			ctrl.LoggerFrom(ctx).Error(err, "listing connections that reference an object", "object", o.GetName())
			return nil
		}
		reqs := make([]ctrl.Request, 0, len(list.Items))
		for _, c := range list.Items {
			reqs = append(reqs, ctrl.Request{NamespacedName: types.NamespacedName{Namespace: c.Namespace, Name: c.Name}})
		}
		return reqs
	}
}

// fleetMembers maps a TableauFleet to the connections it selects, so a member learns at once
// that its turn has come.
func (r *TableauConnectionReconciler) fleetMembers(ctx context.Context, o client.Object) []ctrl.Request {
	f := o.(*v1.TableauFleet)
	sel, err := metav1.LabelSelectorAsSelector(&f.Spec.Selector)
	if err != nil {
		return nil
	}
	var list v1.TableauConnectionList
	// Only names are read: the cache's objects, not a copy of every member.
	if err := r.List(ctx, &list, client.InNamespace(f.Namespace), client.MatchingLabelsSelector{Selector: sel}, client.UnsafeDisableDeepCopy); err != nil {
		return nil
	}
	reqs := make([]ctrl.Request, 0, len(list.Items))
	for _, c := range list.Items {
		reqs = append(reqs, ctrl.Request{NamespacedName: types.NamespacedName{Namespace: c.Namespace, Name: c.Name}})
	}
	return reqs
}

// clientFor returns the connection's gated client around a shared client for one server,
// version and CA bundle, so connections reuse TLS connections instead of dialling anew on
// every reconcile, and every call of the connection goes through its call gate.
func (r *tableauClients) clientFor(conn *v1.TableauConnection, caPEM []byte) (*gatedclient.Client, string, error) {
	raw, serverKey, err := r.sharedClient(conn, caPEM)
	if err != nil {
		return nil, "", err
	}
	return r.gated(conn, raw), serverKey, nil
}

func (r *tableauClients) sharedClient(conn *v1.TableauConnection, caPEM []byte) (*tableau.Client, string, error) {
	sum := sha256.Sum256(caPEM)
	caKey := hex.EncodeToString(sum[:8])
	serverKey := conn.Spec.Server + "|" + caKey
	key := serverKey + "|" + conn.Spec.APIVersion
	c, err := r.mem.client(key, func() (*tableau.Client, error) {
		return tableau.New(tableau.Options{Server: conn.Spec.Server, APIVersion: conn.Spec.APIVersion, CACertPEM: caPEM,
			Observe: metrics.ObserveCall, UserAgent: "tableau-operator"})
	})
	if err != nil {
		return nil, "", err
	}
	return c, serverKey, nil
}

// jitter spreads periodic requeues of many connections by ±10%.
func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.9 + 0.2*rand.Float64()))
}
