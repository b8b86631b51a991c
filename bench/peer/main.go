// Command peer is the benchmark's Go peer: a minimal ApprovalRequest approver written the usual way,
// with controller-runtime, as a new user would write it. It decides the benchmark's requests with the
// typical policy's rules (bench/lib/workload.ts) hard-wired, writes the same status Greenlight writes
// (phase, decision, the why-trace of the rules that ran, the seven conditions) with one update, and
// records one Event per decision. Its cache is scoped to one namespace; 16 workers by default.
//
// It takes the flags the benchmark gives Greenlight's controller (the benchmark finds the process by
// its --metrics-bind-address), serves controller-runtime's metrics there and /readyz on the probe
// address (ready once its cache has synced, as Greenlight's is, so that start-up times compare), and
// stops on SIGTERM. A request it escalated before is not written again while nothing changed (a
// reconcile is idempotent, as controller-runtime asks), so a restart over many stored requests costs
// reads, not writes.
//
// Usage: peer --kubeconfig FILE --namespace NS --metrics-bind-address HOST:PORT
//
//	--health-probe-bind-address HOST:PORT [--concurrency 16]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/recorder"
)

var groupVersion = schema.GroupVersion{Group: "greenlight.dev", Version: "v1alpha1"}

func main() {
	namespace := flag.String("namespace", "", "the one namespace to watch")
	metricsAddr := flag.String("metrics-bind-address", ":8080", "where /metrics is served")
	probeAddr := flag.String("health-probe-bind-address", ":8081", "where /readyz is served")
	concurrency := flag.Int("concurrency", 16, "requests reconciled in parallel")
	flag.Parse()
	if *namespace == "" {
		fmt.Fprintln(os.Stderr, "peer: --namespace is required")
		os.Exit(2)
	}
	// --kubeconfig is controller-runtime's own flag, read by ctrl.GetConfig.
	if err := run(*namespace, *metricsAddr, *probeAddr, *concurrency); err != nil {
		fmt.Fprintf(os.Stderr, "peer: %v\n", err)
		os.Exit(1)
	}
}

func run(namespace, metricsAddr, probeAddr string, concurrency int) error {
	ctrl.SetLogger(zap.New())
	config, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("reading the kubeconfig: %w", err)
	}
	scheme := runtime.NewScheme()
	scheme.AddKnownTypes(groupVersion, &ApprovalRequest{}, &ApprovalRequestList{})
	metav1.AddToGroupVersion(scheme, groupVersion)
	mgr, err := ctrl.NewManager(config, ctrl.Options{
		Scheme:                 scheme,
		Cache:                  cache.Options{DefaultNamespaces: map[string]cache.Config{namespace: {}}},
		Metrics:                metricsserver.Options{BindAddress: metricsAddr},
		HealthProbeBindAddress: probeAddr,
	})
	if err != nil {
		return fmt.Errorf("creating the manager: %w", err)
	}
	ctx := ctrl.SetupSignalHandler()
	// The informer is made now, so that WaitForCacheSync waits for it (the controller would make it
	// only once started, after the cache: WaitForCacheSync would then find nothing to wait for).
	if _, err := mgr.GetCache().GetInformer(ctx, &ApprovalRequest{}); err != nil {
		return fmt.Errorf("creating the informer: %w", err)
	}
	var synced atomic.Bool
	go func() { synced.Store(mgr.GetCache().WaitForCacheSync(ctx)) }()
	err = mgr.AddReadyzCheck("cache", func(*http.Request) error {
		if !synced.Load() {
			return errors.New("the cache has not synced yet")
		}
		return nil
	})
	if err != nil {
		return err
	}
	reconciler := &approver{client: mgr.GetClient(), events: mgr.GetEventRecorder("greenlight-peer")}
	err = ctrl.NewControllerManagedBy(mgr).
		For(&ApprovalRequest{}).
		Named("approvalrequest").
		WithOptions(controller.Options{MaxConcurrentReconciles: concurrency}).
		Complete(reconciler)
	if err != nil {
		return fmt.Errorf("creating the controller: %w", err)
	}
	return mgr.Start(ctx)
}

type approver struct {
	client client.Client
	events recorder.EventRecorder
}

func (a *approver) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var request ApprovalRequest
	if err := a.client.Get(ctx, req.NamespacedName, &request); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if final(request.Status.Phase) {
		return ctrl.Result{}, nil
	}
	verdict := decide(&request.Spec)
	if verdict.Outcome == "" && request.Status.Phase == verdict.Phase &&
		request.Status.ObservedGeneration == request.Generation {
		return ctrl.Result{RequeueAfter: time.Minute}, nil
	}
	now := time.Now()
	request.Status = nextStatus(&request, verdict, metav1.NewTime(now))
	if err := a.client.Status().Update(ctx, &request); err != nil {
		if apierrors.IsConflict(err) {
			return ctrl.Result{Requeue: true}, nil
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if verdict.Outcome != "" {
		eventType := "Normal"
		if verdict.Outcome != "Approved" {
			eventType = "Warning"
		}
		a.events.Eventf(&request, nil, eventType, verdict.Outcome, "Decide", "%s by %s: %s",
			verdict.Outcome, verdict.DecidedBy, verdict.Reason)
		return ctrl.Result{}, nil
	}
	a.events.Eventf(&request, nil, "Normal", "Escalated", "Escalate", "Escalated to people: %s", verdict.Reason)
	return ctrl.Result{RequeueAfter: time.Minute}, nil
}

func final(phase string) bool {
	return phase == "Approved" || phase == "Denied" || phase == "Expired"
}

// nextStatus is the status Greenlight writes for the verdict: phase, decision, the rules that ran,
// and the conditions Decided, Approved, Denied, Escalated, Ready, Reconciling and Stalled.
func nextStatus(request *ApprovalRequest, v verdict, now metav1.Time) ApprovalRequestStatus {
	generation := request.Generation
	phase := v.Phase
	decided := v.Outcome != ""
	status := ApprovalRequestStatus{
		Phase:              phase,
		Evaluations:        v.Evaluations,
		ExpiresAt:          now.Add(4 * time.Hour).UTC().Format(time.RFC3339),
		ObservedGeneration: generation,
		Conditions:         request.Status.Conditions,
	}
	if decided {
		status.Decision = &Decision{
			Outcome:   v.Outcome,
			DecidedBy: v.DecidedBy,
			Reason:    v.Reason,
			DecidedAt: now.UTC().Format(time.RFC3339),
		}
	}
	outcome := phase + ": " + v.Reason
	notPhase := "the request is " + phase
	set := func(condition string, holds bool, reason, whenFalse, message, messageFalse string) {
		c := metav1.Condition{Type: condition, Status: metav1.ConditionFalse, Reason: whenFalse,
			Message: messageFalse, ObservedGeneration: generation, LastTransitionTime: now}
		if holds {
			c.Status, c.Reason, c.Message = metav1.ConditionTrue, reason, message
		}
		meta.SetStatusCondition(&status.Conditions, c)
	}
	escalatedWhenFalse := "NotEscalated"
	if decided {
		escalatedWhenFalse = "Decided"
	}
	set("Decided", decided, phase, phase, v.Reason, v.Reason)
	set("Approved", phase == "Approved", phase, "NotApproved", v.Reason, notPhase)
	set("Denied", phase == "Denied", phase, "NotDenied", v.Reason, notPhase)
	set("Escalated", phase == "Escalated", "WaitingForPeople", escalatedWhenFalse, v.Reason, notPhase)
	readyFalse := outcome
	if !decided {
		readyFalse = "not approved yet; " + outcome
	}
	set("Ready", phase == "Approved", phase, phase, outcome, readyFalse)
	if decided {
		set("Reconciling", false, phase, "Decided", "", "decided: "+outcome)
	} else {
		set("Reconciling", true, phase, "Decided", outcome, "")
	}
	set("Stalled", phase == "Denied", phase, "NotStalled", outcome, notPhase)
	return status
}
