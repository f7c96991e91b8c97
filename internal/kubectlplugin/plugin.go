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

// Package kubectlplugin is `kubectl tableau`: the commands a person who runs the fleet types
// (status, rotate, resume, suspend, unsuspend, report). The same binary serves it as
// kubectl-tableau (krew's naming) and as `tableau-operator ctl`. It reads and annotates the
// operator's objects through the user's kubeconfig and never reads a Secret's data: the consumer
// Secret is fetched as metadata only.
package kubectlplugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tableau-operator/tableau-operator/api/v1alpha1"
)

// Exit codes: 0 the command did what was asked and the result is good, 1 it ran but the
// result is bad (a failed sign-in after rotate, an API error), 2 the command line is wrong.
const (
	ExitOK      = 0
	ExitFailed  = 1
	ExitUsage   = 2
	programName = "kubectl tableau"
)

// Streams are the plugin's input and output. TTY says whether Out is a terminal (colour
// only then), ErrTTY whether Err is (the progress line, written there, is rewritten in place
// only then).
type Streams struct {
	Out, Err    io.Writer
	TTY, ErrTTY bool
}

// failure is an error after the command line was accepted: it exits with code, not 2.
type failure struct {
	code int
	err  error
}

func (f *failure) Error() string { return f.err.Error() }

func failed(format string, args ...any) error {
	return &failure{code: ExitFailed, err: fmt.Errorf(format, args...)}
}

// env is what every subcommand needs: the kubeconfig flags, the client they build, the clock.
type env struct {
	flags   *kubeconfigFlags
	streams Streams
	now     func() time.Time
	k8s     client.Client
	ns      string
}

// Subcommands, with the one line that `--help` of both the plugin and the manager print.
var Subcommands = []struct{ Name, Summary string }{
	{"status", "show one connection (or fleet/NAME): conditions, failure, next step, consumer Secret, rotation, expiry, last attempts"},
	{"rotate", "ask a connection to validate again or retry a failed rotation, and wait for the result"},
	{"resume", "let a halted fleet (fleet/NAME) roll on past its failed members"},
	{"suspend", "stop every Tableau call for a connection (spec.suspend: true)"},
	{"unsuspend", "let a suspended connection call Tableau again"},
	{"report", "every connection in one table (-o table|csv|json), with --since the attempts and rotations of that window"},
}

func summary(name string) string {
	for _, s := range Subcommands {
		if s.Name == name {
			return s.Summary
		}
	}
	return ""
}

// Main runs the plugin with args (without the program name) and returns the exit code.
func Main(ctx context.Context, args []string, streams Streams) int {
	e := &env{
		flags:   newKubeconfigFlags(),
		streams: streams,
		now:     time.Now,
	}
	root := newRoot(e)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var f *failure
	if errors.As(err, &f) {
		fmt.Fprintln(streams.Err, "error: "+oneLine(f.err.Error()))
		return f.code
	}
	fmt.Fprintf(streams.Err, "error: %s (see %s --help)\n", oneLine(err.Error()), programName)
	return ExitUsage
}

func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:           "tableau",
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: programName},
		Short:         "Inspect and steer the TableauConnections and TableauFleets of tableau-operator",
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return errors.New("name a subcommand: " + subcommandNames())
		},
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetOut(e.streams.Out)
	root.SetErr(e.streams.Err)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return err })
	e.flags.addFlags(root.PersistentFlags())
	root.AddCommand(newStatusCmd(e), newRotateCmd(e), newResumeCmd(e), newSuspendCmd(e, true), newSuspendCmd(e, false), newReportCmd(e))
	return root
}

func subcommandNames() string {
	names := make([]string, 0, len(Subcommands))
	for _, s := range Subcommands {
		names = append(names, s.Name)
	}
	return strings.Join(names, ", ")
}

// connect builds the client from the kubeconfig flags. A missing configuration is one line
// saying what to do, not a stack trace.
func (e *env) connect() error {
	if e.k8s != nil {
		return nil
	}
	noConfig := failed("no Kubernetes configuration found: set KUBECONFIG, pass --kubeconfig, or write ~/.kube/config")
	// Without any configuration client-go would try http://localhost:8080; say what to do instead.
	loader := e.flags.clientConfig()
	if raw, err := loader.RawConfig(); err == nil && len(raw.Clusters) == 0 &&
		!e.flags.serverGiven() && os.Getenv("KUBERNETES_SERVICE_HOST") == "" {
		return noConfig
	}
	cfg, err := loader.ClientConfig()
	if err != nil {
		if clientcmd.IsEmptyConfig(err) {
			return noConfig
		}
		return failed("reading the Kubernetes configuration: %v", err)
	}
	ns, _, err := loader.Namespace()
	if err != nil {
		return failed("finding the namespace: %v", err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme()})
	if err != nil {
		return failed("connecting to the Kubernetes API server: %v", err)
	}
	e.k8s, e.ns = c, ns
	return nil
}

func scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(v1.AddToScheme(s))
	return s
}

// oneLine keeps an error or a message to one printable line, as a shell user reads it.
func oneLine(s string) string {
	return printable(strings.Join(strings.Fields(s), " "))
}

// apiError turns an API error into a failure that names what was asked.
func apiError(what string, err error) error {
	return failed("%s: %v", what, err)
}

// IsTerminal reports whether f is a terminal; NO_COLOR turns colour off as well.
func IsTerminal(f *os.File) bool {
	if os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
