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
	"context"
	"fmt"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// pollInterval is how often rotate and resume read again the object they wait on.
const pollInterval = 500 * time.Millisecond

// request is one annotate-and-wait, the shape rotate and resume share: a person's request is
// recorded as an annotation, and the command follows the object until its controller says it
// has handled that value. What differs (what "handled" means, what is printed) stays with the
// command in poll and answer.
type request struct {
	obj        client.Object // as just read: the annotation is set on it and merge-patched
	what       string        // "TableauConnection ns/name", for the API error
	key, value string        // the annotation
	requested  string        // printed once the request is recorded
	noWait     bool
	timeout    time.Duration
	timedOut   error // returned when the timeout passes first: it says the request stays recorded
	// poll reads the object again and returns the progress line ("" shows none) and whether
	// the request is answered. An error ends the wait.
	poll func(ctx context.Context) (line string, answered bool, err error)
	// answer prints the outcome once poll says answered and gives the exit code.
	answer func() error
	every  time.Duration // between polls; pollInterval when zero (tests shorten it)
}

// annotateAndWait records r and, unless r.noWait, polls until r is answered, fails, or its
// timeout passes. A failure once the timeout has passed is the timeout: the read was cut short
// by it, and the request stays recorded.
func (e *env) annotateAndWait(ctx context.Context, r request) error {
	before := r.obj.DeepCopyObject().(client.Object)
	annotations := r.obj.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[r.key] = r.value
	r.obj.SetAnnotations(annotations)
	if err := e.k8s.Patch(ctx, r.obj, client.MergeFrom(before)); err != nil {
		return apiError("annotating "+r.what, err)
	}
	fmt.Fprint(e.streams.Out, r.requested)
	if r.noWait {
		return nil
	}
	every := r.every
	if every <= 0 {
		every = pollInterval
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	progress := newProgress(e.streams)
	for {
		line, answered, err := r.poll(ctx)
		if err != nil {
			progress.done()
			if ctx.Err() != nil {
				return r.timedOut
			}
			return err
		}
		if line != "" {
			progress.show(line)
		}
		if answered {
			progress.done()
			return r.answer()
		}
		select {
		case <-ctx.Done():
			progress.done()
			return r.timedOut
		case <-time.After(every):
		}
	}
}
