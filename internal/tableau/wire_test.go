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

package tableau

import (
	"strings"
	"testing"
)

func TestDecodeBody(t *testing.T) {
	const xmlDecl = "<?xml version='1.0' encoding='UTF-8'?>"
	const nsCurrent = `xmlns="http://tableau.com/api"`
	const nsLegacy = `xmlns="http://tableausoftware.com/api"`
	cases := []struct {
		name        string
		contentType string
		body        string
		tooLarge    bool
		want        decoded
	}{
		{"XML error, current namespace, declaration", "application/xml;charset=UTF-8",
			xmlDecl + `<tsResponse ` + nsCurrent + ` xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://tableau.com/api https://help.tableau.com/samples/en-us/rest_api/ts-api_3_24.xsd"><error code="401001"><summary>Signin Error</summary><detail>Error signing in to Tableau Server</detail></error></tsResponse>`,
			false, decoded{kind: BodyTableauXML, namespace: "http://tableau.com/api", errCode: "401001", errSummary: "Signin Error", errDetail: "Error signing in to Tableau Server"}},
		{"XML error, legacy namespace, no declaration", "text/xml",
			`<tsResponse ` + nsLegacy + `><error code="404001"><summary>Resource Not Found</summary><detail>Version '3.7' is not a valid version of the API.</detail></error></tsResponse>`,
			false, decoded{kind: BodyTableauXML, namespace: "http://tableausoftware.com/api", errCode: "404001", errSummary: "Resource Not Found", errDetail: "Version '3.7' is not a valid version of the API."}},
		{"XML error with callstack and white space", "application/xml",
			"\n  <tsResponse " + nsCurrent + ">\n <error code=\" 500000 \">\n<summary>\n Internal Server Error </summary><detail>boom</detail><callstack>at x</callstack></error></tsResponse>",
			false, decoded{kind: BodyTableauXML, namespace: "http://tableau.com/api", errCode: "500000", errSummary: "Internal Server Error", errDetail: "boom"}},
		{"XML without namespace", "application/xml",
			`<tsResponse><error code="401002"><summary>Unauthorized Access</summary><detail>Invalid authentication credentials were provided.</detail></error></tsResponse>`,
			false, decoded{kind: BodyTableauXML, errCode: "401002", errSummary: "Unauthorized Access", errDetail: "Invalid authentication credentials were provided."}},
		{"XML sign-in answer", "application/xml",
			xmlDecl + `<tsResponse ` + nsCurrent + `><credentials token="abc|def" estimatedTimeToExpiration="177:05:38"><site id="s-1" contentUrl="finance"/><user id="u-1"/></credentials></tsResponse>`,
			false, decoded{kind: BodyTableauXML, namespace: "http://tableau.com/api",
				credentials: &wireCredentials{Token: "abc|def", EstimatedTimeToExpiration: "177:05:38", SiteID: "s-1", SiteContentURL: "finance", UserID: "u-1"}}},
		{"XML serverinfo", "application/xml",
			`<tsResponse ` + nsCurrent + `><serverInfo><productVersion build="20253.25.0903.0012">2025.3.0</productVersion><restApiVersion>3.27</restApiVersion></serverInfo></tsResponse>`,
			false, decoded{kind: BodyTableauXML, namespace: "http://tableau.com/api", serverInfo: &wireServerInfo{ProductVersion: "2025.3.0", Build: "20253.25.0903.0012", RESTAPIVersion: "3.27"}}},
		{"XML truncated", "application/xml",
			xmlDecl + `<tsResponse ` + nsCurrent + `><serverInfo><productVersion build="2024`,
			false, decoded{kind: BodyMalformed}},
		{"XML declaration only", "application/xml", xmlDecl, false, decoded{kind: BodyMalformed}},
		{"XML of another kind", "application/xml", `<authinfo><version>2.0</version></authinfo>`, false, decoded{kind: BodyOtherXML, errSummary: "<authinfo> document"}},
		{"XML content type, HTML body", "application/xml",
			"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
			false, decoded{kind: BodyHTML, errSummary: "502 Bad Gateway"}},
		{"HTML 429 page", "text/html; charset=utf-8",
			"<html>\n<head><title>429 Too Many Requests</title></head><body><h1>Too Many Requests</h1></body></html>",
			false, decoded{kind: BodyHTML, errSummary: "429 Too Many Requests"}},
		{"HTML without title uses h1", "text/html",
			"<html><body><h1>Access <b>denied</b></h1></body></html>",
			false, decoded{kind: BodyHTML, errSummary: "Access denied"}},
		{"HTML without content type", "",
			"  <!doctype html><html><title>Sign In</title></html>",
			false, decoded{kind: BodyHTML, errSummary: "Sign In"}},
		{"JSON error with string code", "application/json",
			`{"error":{"summary":"Signin Error","detail":"Error signing in to Tableau Server","code":"401001"}}`,
			false, decoded{kind: BodyTableauJSON, errCode: "401001", errSummary: "Signin Error", errDetail: "Error signing in to Tableau Server"}},
		{"JSON error with numeric code", "application/json;charset=UTF-8",
			`{"error":{"summary":"Too Many Requests","detail":"x","code":429000}}`,
			false, decoded{kind: BodyTableauJSON, errCode: "429000", errSummary: "Too Many Requests", errDetail: "x"}},
		{"JSON sign-in answer", "application/json",
			`{"credentials":{"site":{"id":"s-1","contentUrl":""},"user":{"id":"u-1"},"token":"t|u","estimatedTimeToExpiration":"12:00:30"}}`,
			false, decoded{kind: BodyTableauJSON, credentials: &wireCredentials{Token: "t|u", EstimatedTimeToExpiration: "12:00:30", SiteID: "s-1", UserID: "u-1"}}},
		{"JSON serverinfo", "application/json",
			`{"serverInfo":{"productVersion":{"value":"main","build":"main.25.0804.1416"},"restApiVersion":"3.30"}}`,
			false, decoded{kind: BodyTableauJSON, serverInfo: &wireServerInfo{ProductVersion: "main", Build: "main.25.0804.1416", RESTAPIVersion: "3.30"}}},
		{"TSM port Spring JSON", "application/json",
			`{"timestamp":1700000000000,"status":401,"error":"Unauthorized","message":"Please log in at /login to continue","path":"/api/3.24/auth/signin"}`,
			false, decoded{kind: BodyTSMJSON, errSummary: "Unauthorized", errDetail: "Please log in at /login to continue"}},
		{"JSON of another service", "application/json", `{"message":"Forbidden"}`, false, decoded{kind: BodyOtherJSON}},
		{"JSON array", "application/json", `[1,2,3]`, false, decoded{kind: BodyOtherJSON}},
		{"JSON truncated", "application/json", `{"error":{"summary":"Sig`, false, decoded{kind: BodyMalformed}},
		{"JSON without content type", "", `{"error":{"summary":"S","detail":"D","code":"403004"}}`,
			false, decoded{kind: BodyTableauJSON, errCode: "403004", errSummary: "S", errDetail: "D"}},
		{"empty body", "application/xml", "", false, decoded{kind: BodyEmpty}},
		{"white space only", "text/html", " \n\t ", false, decoded{kind: BodyEmpty}},
		{"plain text", "text/plain", "upstream connect error or disconnect/reset before headers\nmore", false, decoded{kind: BodyUnknown, errSummary: "upstream connect error or disconnect/reset before headers"}},
		{"unknown content type, binary", "application/octet-stream", "\x00\x01\x02binary", false, decoded{kind: BodyUnknown, errSummary: "\x00\x01\x02binary"}},
		{"unknown content type, tsResponse body", "application/x-unknown",
			`<tsResponse><error code="401000"><summary>Unauthorized Access</summary><detail>No authentication credentials were provided</detail></error></tsResponse>`,
			false, decoded{kind: BodyTableauXML, errCode: "401000", errSummary: "Unauthorized Access", errDetail: "No authentication credentials were provided"}},
		{"bad content type header", "%%%", `{"error":{"summary":"S","detail":"D","code":"401001"}}`,
			false, decoded{kind: BodyTableauJSON, errCode: "401001", errSummary: "S", errDetail: "D"}},
		{"too large", "application/xml", "<tsResponse>", true, decoded{kind: BodyTooLarge}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := decodeBody(tc.contentType, []byte(tc.body), tc.tooLarge)
			got.cause = nil
			if !equalDecoded(got, tc.want) {
				t.Errorf("decodeBody =\n %+v\nwant\n %+v", describeDecoded(got), describeDecoded(tc.want))
			}
		})
	}
}

func TestDecodedMalformedSaysWhy(t *testing.T) {
	got := decodeBody("application/xml", []byte(`<tsResponse><error code="1">`), false)
	if got.kind != BodyMalformed || got.cause == nil {
		t.Fatalf("kind=%s cause=%v, want Malformed with a cause", got.kind, got.cause)
	}
}

func TestCleanTextBoundsLength(t *testing.T) {
	long := strings.Repeat("x", 5000)
	got := decodeBody("text/html", []byte("<html><title>"+long+"</title></html>"), false)
	if len(got.errSummary) > 310 {
		t.Errorf("summary is %d bytes, want it bounded", len(got.errSummary))
	}
}

func equalDecoded(a, b decoded) bool {
	return describeDecoded(a) == describeDecoded(b)
}

func describeDecoded(d decoded) string {
	var b strings.Builder
	b.WriteString("kind=" + string(d.kind) + " ns=" + d.namespace + " code=" + d.errCode + " summary=" + d.errSummary + " detail=" + d.errDetail)
	if d.credentials != nil {
		b.WriteString(" credentials=" + strings.Join([]string{d.credentials.Token, d.credentials.EstimatedTimeToExpiration, d.credentials.SiteID, d.credentials.SiteContentURL, d.credentials.UserID}, ","))
	}
	if d.serverInfo != nil {
		b.WriteString(" serverInfo=" + d.serverInfo.ProductVersion + "," + d.serverInfo.Build + "," + d.serverInfo.RESTAPIVersion)
	}
	if d.session != nil {
		b.WriteString(" session=" + d.session.SiteID + "," + d.session.UserID)
	}
	return b.String()
}
