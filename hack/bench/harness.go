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
	"cmp"
	"os"
	"path/filepath"

	"k8s.io/client-go/rest"
)

// proxiedOperator prepares what every act runs the operator with: the counting API proxy in
// front of the control plane, a kubeconfig that points at it, the operator's log file
// (BENCH_OPERATOR_LOG keeps it where it says; the temporary directory goes) and a cgroup
// directory whose memory.max is the chart's limit. The operator is not started; cleanup
// undoes the rest, in reverse order.
func proxiedOperator(cfg *rest.Config, operatorBin string) (*apiProxy, *operator, func(), error) {
	var undo []func()
	cleanup := func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	fail := func(err error) (*apiProxy, *operator, func(), error) {
		cleanup()
		return nil, nil, nil, err
	}
	proxy, err := startAPIProxy(cfg)
	if err != nil {
		return fail(err)
	}
	undo = append(undo, proxy.close)
	dir, err := os.MkdirTemp("", "tableau-operator-bench-")
	if err != nil {
		return fail(err)
	}
	undo = append(undo, func() { os.RemoveAll(dir) })
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := proxy.kubeconfig(kubeconfig); err != nil {
		return fail(err)
	}
	logFile, err := os.Create(cmp.Or(os.Getenv("BENCH_OPERATOR_LOG"), filepath.Join(dir, "operator.log")))
	if err != nil {
		return fail(err)
	}
	undo = append(undo, func() { logFile.Close() })
	limit, err := chartMemoryLimit(chartValues)
	if err != nil {
		return fail(err)
	}
	cgroupRoot, err := containerCgroup(dir, limit)
	if err != nil {
		return fail(err)
	}
	return proxy, &operator{bin: operatorBin, kubeconfig: kubeconfig, log: logFile, cgroupRoot: cgroupRoot, limit: float64(limit)}, cleanup, nil
}
