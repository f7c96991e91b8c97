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

// Command tableau-simulator serves the Tableau REST API subset of internal/tableausim from a
// small config file of sites, users, tokens and connected apps, for the demo and for trying
// `tableau-operator check`.
//
//	tableau-simulator --config sites.yaml --listen 127.0.0.1:8443 --ca-out ca.crt
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/tableau-operator/tableau-operator/internal/tableausim"
)

// Config is the file's shape.
type Config struct {
	RESTAPIVersion string `json:"restApiVersion"`
	ProductVersion string `json:"productVersion"`
	Build          string `json:"build"`
	Sites          []struct {
		ContentURL string `json:"contentUrl"`
		Name       string `json:"name"`
		Tokens     []struct {
			Name          string `json:"name"`
			Secret        string `json:"secret"`
			SecretFile    string `json:"secretFile"`
			ExpiresInDays int    `json:"expiresInDays"`
			Revoked       bool   `json:"revoked"`
			// User owns the token (the token name when empty); SiteRole is that user's role
			// when the user is new (SiteAdministratorCreator when empty).
			User     string `json:"user"`
			SiteRole string `json:"siteRole"`
		} `json:"tokens"`
		// Users are the users JWTs sign in as (a token's owner is added on its own).
		Users []struct {
			Name     string `json:"name"`
			SiteRole string `json:"siteRole"`
		} `json:"users"`
		ConnectedApps []struct {
			ClientID string `json:"clientId"`
			Name     string `json:"name"`
			Disabled bool   `json:"disabled"`
			// MaxJWTExpiryMinutes raises the 10-minute exp limit, as tsm can on Tableau Server.
			MaxJWTExpiryMinutes int `json:"maxJwtExpiryMinutes"`
			// Secrets already on the app (at most two); more can be created through REST.
			Secrets []struct {
				ID        string `json:"id"`
				Value     string `json:"value"`
				ValueFile string `json:"valueFile"`
			} `json:"secrets"`
		} `json:"connectedApps"`
	} `json:"sites"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "tableau-simulator:", err)
		os.Exit(1)
	}
}

func run() error {
	configPath := flag.String("config", "", "YAML file of sites and tokens (required)")
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	plainHTTP := flag.Bool("http", false, "serve plain HTTP instead of HTTPS")
	caOut := flag.String("ca-out", "", "write the generated CA certificate (PEM) here")
	urlOut := flag.String("url-out", "", "write the server's URL here once it listens")
	requestID := flag.String("request-id-header", "", "send a request id in this response header")
	flag.Parse()
	if *configPath == "" {
		return errors.New("--config is required")
	}
	sim, err := load(*configPath, *requestID)
	if err != nil {
		return err
	}
	var srv *tableausim.Server
	if *plainHTTP {
		srv, err = sim.Serve(*listen)
	} else {
		srv, err = sim.ServeTLS(*listen)
	}
	if err != nil {
		return err
	}
	defer func() { _ = srv.Close() }()
	if *caOut != "" && srv.CAPEM != nil {
		if err := os.WriteFile(*caOut, srv.CAPEM, 0o644); err != nil {
			return err
		}
	}
	if *urlOut != "" {
		if err := os.WriteFile(*urlOut, []byte(srv.URL+"\n"), 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("tableau-simulator listening on %s (sites: %v)\n", srv.URL, sim.SiteNames())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	return nil
}

func load(path, requestIDHeader string) (*tableausim.Simulator, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cfg Config
	if err := yaml.UnmarshalStrict(raw, &cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	sim := tableausim.New(tableausim.Config{RESTAPIVersion: cfg.RESTAPIVersion, ProductVersion: cfg.ProductVersion,
		Build: cfg.Build, RequestIDHeader: requestIDHeader})
	now := time.Now()
	for _, s := range cfg.Sites {
		sim.AddSite(s.ContentURL, s.Name)
		for _, t := range s.Tokens {
			secret, err := valueOrFile(t.Secret, t.SecretFile)
			if err != nil {
				return nil, err
			}
			p := tableausim.PAT{Name: t.Name, Secret: secret, Created: now, User: t.User, SiteRole: t.SiteRole}
			if t.ExpiresInDays > 0 {
				p.Expires = now.Add(time.Duration(t.ExpiresInDays) * 24 * time.Hour)
			}
			if err := sim.AddPAT(s.ContentURL, p); err != nil {
				return nil, fmt.Errorf("%s: site %q: %w", path, s.ContentURL, err)
			}
			if t.Revoked {
				if err := sim.RevokePAT(s.ContentURL, t.Name); err != nil {
					return nil, err
				}
			}
		}
		for _, u := range s.Users {
			if err := sim.AddUser(s.ContentURL, u.Name, u.SiteRole); err != nil {
				return nil, fmt.Errorf("%s: site %q: %w", path, s.ContentURL, err)
			}
		}
		for _, a := range s.ConnectedApps {
			app := tableausim.ConnectedApp{ClientID: a.ClientID, Name: a.Name, Disabled: a.Disabled,
				MaxJWTExpiry: time.Duration(a.MaxJWTExpiryMinutes) * time.Minute}
			if err := sim.AddConnectedApp(s.ContentURL, app); err != nil {
				return nil, fmt.Errorf("%s: site %q: %w", path, s.ContentURL, err)
			}
			for _, sec := range a.Secrets {
				value, err := valueOrFile(sec.Value, sec.ValueFile)
				if err != nil {
					return nil, err
				}
				if err := sim.AddConnectedAppSecret(s.ContentURL, a.ClientID, sec.ID, value); err != nil {
					return nil, fmt.Errorf("%s: site %q: %w", path, s.ContentURL, err)
				}
			}
		}
	}
	return sim, nil
}

// valueOrFile is a credential given inline or, better, in a file of its own. A file's trailing
// newline is not part of the credential, as `tableau-operator check` reads it too.
func valueOrFile(value, file string) (string, error) {
	if file == "" {
		return value, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}
