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

package controllers

import (
	"context"
	"errors"
	"testing"

	"github.com/tableau-operator/tableau-operator/internal/tableau"
)

func TestAdminLocksSerializeOnePATAndForgetReleasedKeys(t *testing.T) {
	var l adminLocks
	pat := tableau.PersonalAccessToken{Name: "admin", Secret: tableau.NewSecret("s3cr3t")}
	key := adminLockKey("https://tableau.example.com", "finance", pat)
	if other := adminLockKey("https://tableau.example.com", "finance", tableau.PersonalAccessToken{Name: "admin", Secret: tableau.NewSecret("next")}); other == key {
		t.Fatal("a new revision of the PAT has the same key")
	}
	release, err := l.acquire(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	// A second holder of the same PAT waits; it gives up when its context ends.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.acquire(ctx, key); !errors.Is(err, context.Canceled) {
		t.Fatalf("a second acquire of a held key returned %v, want context.Canceled", err)
	}
	// Another PAT does not wait.
	releaseOther, err := l.acquire(context.Background(), adminLockKey("https://tableau.example.com", "sales", pat))
	if err == nil {
		releaseOther()
	} else {
		t.Fatalf("another key waited: %v", err)
	}
	release()
	release() // idempotent
	again, err := l.acquire(context.Background(), key)
	if err != nil {
		t.Fatalf("the key is still held after release: %v", err)
	}
	again()
	if n := len(l.locks); n != 0 {
		t.Errorf("%d keys remain after every holder released", n)
	}
}
