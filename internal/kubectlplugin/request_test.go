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
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

func fakeEnv(t *testing.T, funcs interceptor.Funcs, objs ...client.Object) (*env, *bytes.Buffer) {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := v1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).WithInterceptorFuncs(funcs).Build()
	return &env{streams: Streams{Out: &out, Err: &bytes.Buffer{}}, now: time.Now, k8s: c, ns: "ns"}, &out
}

// handledOnRead stands in for a controller: every read of an object passes it through answer,
// which sets the status the controller would write once it has seen the annotation.
func handledOnRead(answer func(client.Object)) interceptor.Funcs {
	return interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if err := c.Get(ctx, key, obj, opts...); err != nil {
				return err
			}
			answer(obj)
			return nil
		},
	}
}

// TestAnnotateAndWait: the request is on the object before the first poll, and the wait ends
// with the answer, the poll's error, or the timeout (also when the timeout cut a poll short).
func TestAnnotateAndWait(t *testing.T) {
	timedOut := errors.New("timed out")
	pollErr := errors.New("read failed")
	for _, tc := range []struct {
		name      string
		noWait    bool
		answerAt  int  // poll that answers; 0 never
		failAt    int  // poll that fails; 0 never
		failLate  bool // the failing poll waits for the timeout first
		want      error
		wantPolls int // -1: as many as fit in the timeout
	}{
		{name: "answered on the first poll", answerAt: 1, wantPolls: 1},
		{name: "answered on the third poll", answerAt: 3, wantPolls: 3},
		{name: "no wait", noWait: true, answerAt: 1, wantPolls: 0},
		{name: "poll fails", failAt: 2, want: pollErr, wantPolls: 2},
		{name: "poll cut short by the timeout", failAt: 1, failLate: true, want: timedOut, wantPolls: 1},
		{name: "never answered", want: timedOut, wantPolls: -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fleet := &v1.TableauFleet{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "f"}}
			e, out := fakeEnv(t, interceptor.Funcs{}, fleet)
			answer := errors.New("answered")
			polls := 0
			err := e.annotateAndWait(context.Background(), request{
				obj: fleet.DeepCopy(), what: "TableauFleet ns/f",
				key: v1.AnnotationResume, value: "v1",
				requested: "Requested.\n",
				noWait:    tc.noWait,
				timeout:   50 * time.Millisecond,
				timedOut:  timedOut,
				every:     time.Millisecond,
				poll: func(ctx context.Context) (string, bool, error) {
					polls++
					// Every poll sees the request recorded.
					var got v1.TableauFleet
					if err := e.k8s.Get(ctx, types.NamespacedName{Namespace: "ns", Name: "f"}, &got); err != nil {
						t.Fatal(err)
					}
					if got.Annotations[v1.AnnotationResume] != "v1" {
						t.Fatalf("poll %d: annotations %v", polls, got.Annotations)
					}
					if polls == tc.failAt {
						if tc.failLate {
							<-ctx.Done()
						}
						return "", false, pollErr
					}
					return "waiting 0s", polls == tc.answerAt, nil
				},
				answer: func() error { return answer },
			})
			want := tc.want
			if want == nil && !tc.noWait {
				want = answer
			}
			if err != want {
				t.Errorf("err = %v, want %v", err, want)
			}
			if tc.wantPolls >= 0 && polls != tc.wantPolls {
				t.Errorf("%d polls, want %d", polls, tc.wantPolls)
			}
			if out.String() != "Requested.\n" {
				t.Errorf("printed %q", out.String())
			}
		})
	}
}

// TestAnnotateAndWaitPatchFails: a refused patch names the object and nothing is printed.
func TestAnnotateAndWaitPatchFails(t *testing.T) {
	e, out := fakeEnv(t, interceptor.Funcs{}) // the fleet does not exist
	err := e.annotateAndWait(context.Background(), request{
		obj: &v1.TableauFleet{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "f"}}, what: "TableauFleet ns/f",
		key: v1.AnnotationResume, value: "v1", requested: "Requested.\n", timeout: time.Second,
		poll: func(context.Context) (string, bool, error) { t.Fatal("polled"); return "", false, nil },
	})
	if err == nil || !strings.Contains(err.Error(), "annotating TableauFleet ns/f") {
		t.Errorf("err = %v", err)
	}
	if out.Len() != 0 {
		t.Errorf("printed %q", out.String())
	}
}

// TestResumeThroughAnnotateAndWait: resume records its annotation and ends when the fleet
// controller (here an interceptor on reads) has handled that value.
func TestResumeThroughAnnotateAndWait(t *testing.T) {
	fleet := &v1.TableauFleet{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "f"}}
	fleet.Status.Halted = true
	fleet.Status.Failed = []string{"c1"}
	e, out := fakeEnv(t, handledOnRead(func(obj client.Object) {
		if f, ok := obj.(*v1.TableauFleet); ok && f.Annotations[v1.AnnotationResume] != "" {
			f.Status.LastHandledResume = f.Annotations[v1.AnnotationResume]
			f.Status.Halted = false
			f.Status.Acknowledged = f.Status.Failed
		}
	}), fleet)
	if err := resume(context.Background(), e, "f", false, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); !strings.Contains(got, "Requested: "+v1.AnnotationResume+"=") || !strings.Contains(got, "Resumed past c1:") {
		t.Errorf("printed %q", got)
	}
}

// TestRotateThroughAnnotateAndWait: rotate records its annotation and ends with the result
// once the operator (here an interceptor on reads) has handled that value and answered.
func TestRotateThroughAnnotateAndWait(t *testing.T) {
	conn := &v1.TableauConnection{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "c"}}
	e, out := fakeEnv(t, handledOnRead(func(obj client.Object) {
		if conn, ok := obj.(*v1.TableauConnection); ok && conn.Annotations[v1.AnnotationRequestedAt] != "" {
			conn.Status.LastHandledRequest = conn.Annotations[v1.AnnotationRequestedAt]
			conn.Status.ObservedGeneration = conn.Generation
			conn.Status.History = []v1.ValidationAttempt{{Time: metav1.Now(), Result: "Succeeded"}}
			conn.Status.Conditions = []metav1.Condition{{Type: v1.ConditionReady, Status: metav1.ConditionTrue, Reason: "SignedIn", Message: "ok"}}
		}
	}), conn)
	if err := rotate(context.Background(), e, "c", false, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); !strings.Contains(got, "Requested: "+v1.AnnotationRequestedAt+"=") || !strings.Contains(got, "SignedIn: ok") {
		t.Errorf("printed %q", got)
	}
}
