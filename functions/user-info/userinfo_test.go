package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"testing"

	"github.com/jinlaiban/openplatform/shared/sdk"
)

// pairwiseForm is an application's id for a citizen: 128 bits in hex.
var pairwiseForm = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestEachLevelGivesExactlyItsFields(t *testing.T) {
	t.Parallel()
	cases := []struct {
		level string
		keys  []string
	}{
		{"basic", []string{"id", "mobile", "level", "environment"}},
		{"identity", []string{"id", "mobile", "id_number", "level", "environment"}},
		{"real_name", []string{"id", "mobile", "id_number", "face_image_url", "level", "environment"}},
	}
	for _, tc := range cases {
		t.Run(tc.level, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			a := h.newApp(t, "公积金系统", tc.level)
			c := h.newCitizen(t, "13900000001", "14010519900307123X")
			tok := h.signIn(t, a, c)

			got := h.userInfoOf(t, a, tok.AccessToken).fields(t)
			keys := slices.Sorted(maps.Keys(got))
			if want := slices.Sorted(slices.Values(tc.keys)); !slices.Equal(keys, want) {
				t.Fatalf("members %v, want exactly %v", keys, want)
			}
			id, _ := got["id"].(string)
			if !pairwiseForm.MatchString(id) || id == c.ID {
				t.Errorf("id %q, want the application's pairwise id (not the directory's)", id)
			}
			if got["mobile"] != c.Mobile || got["level"] != tc.level || got["environment"] != "test" {
				t.Errorf("mobile %v, level %v, environment %v; want %s, %s, test", got["mobile"], got["level"], got["environment"],
					c.Mobile, tc.level)
			}
			if n, ok := got["id_number"]; ok && n != c.IDNumber {
				t.Errorf("id_number %v, want %s", n, c.IDNumber)
			}
			if u, ok := got["face_image_url"].(string); ok {
				resp, err := http.Get(u)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				img, _ := io.ReadAll(resp.Body)
				if resp.StatusCode != http.StatusOK || !bytes.Equal(img, c.face) {
					t.Errorf("face_image_url answers %d with %d bytes, want the citizen's %d-byte PNG", resp.StatusCode, len(img), len(c.face))
				}
			}

			// The SDK reads the same.
			info, err := h.client(a).UserInfo(context.Background(), tok)
			if err != nil {
				t.Fatal(err)
			}
			if info.ID != id || info.Mobile != c.Mobile || info.Level != tc.level || (info.IDNumber != "") != slices.Contains(tc.keys, "id_number") {
				t.Errorf("SDK UserInfo %+v disagrees with the answer %v", info, got)
			}
		})
	}
}

func TestAnApplicationApprovedWithoutUserInfoGetsNone(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.newApp(t, "公积金系统", "")
	c := h.newCitizen(t, "13900000001", "14010519900307123X")
	tok := h.signIn(t, a, c)

	r := h.userInfoOf(t, a, tok.AccessToken)
	r.wantProblem(t, http.StatusForbidden, "no-user-info")
	if bytes.Contains(r.body, []byte(c.Mobile)) || bytes.Contains(r.body, []byte(c.IDNumber)) {
		t.Errorf("the refusal carries personal data: %s", r.body)
	}
	if n := len(h.reads(t)); n != 0 {
		t.Errorf("%d reads audited for an application that got nothing", n)
	}
}

func TestAChangedLevelAppliesOnlyToTokensIssuedAfterwards(t *testing.T) {
	t.Parallel()
	cases := []struct{ from, to string }{
		{"identity", "basic"},
		{"basic", "real_name"},
	}
	has := func(m map[string]any, k string) bool { _, ok := m[k]; return ok }
	for _, tc := range cases {
		t.Run(tc.from+" to "+tc.to, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			a := h.newApp(t, "公积金系统", tc.from)
			c := h.newCitizen(t, "13900000001", "14010519900307123X")
			before := h.signIn(t, a, c)

			h.exec(t, `UPDATE applications SET user_info_level = $2 WHERE id = $1`, a.ID, tc.to)
			after := h.signIn(t, a, c)

			old := h.userInfoOf(t, a, before.AccessToken).fields(t)
			fresh := h.userInfoOf(t, a, after.AccessToken).fields(t)
			if old["level"] != tc.from || has(old, "id_number") != (tc.from != "basic") || has(old, "face_image_url") {
				t.Errorf("the token issued before the change reads %v, want level %s", old, tc.from)
			}
			if fresh["level"] != tc.to || has(fresh, "id_number") != (tc.to != "basic") || has(fresh, "face_image_url") != (tc.to == "real_name") {
				t.Errorf("the token issued after the change reads %v, want level %s", fresh, tc.to)
			}
		})
	}
}

func TestACitizenHasOneIDPerApplicationAndDifferentOnesAcrossApplications(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	gjj := h.newApp(t, "公积金系统", "basic")
	sb := h.newApp(t, "社保系统", "basic")
	c := h.newCitizen(t, "13900000001", "")
	other := h.newCitizen(t, "13900000002", "")

	id := func(a *application, p person) string {
		return h.userInfoOf(t, a, h.signIn(t, a, p).AccessToken).fields(t)["id"].(string)
	}
	first, second := id(gjj, c), id(gjj, c)
	if first != second {
		t.Errorf("two sign-ins to one application give ids %s and %s, want one", first, second)
	}
	if inOther := id(sb, c); inOther == first {
		t.Errorf("two applications see the citizen as %s alike: they could join their data on it", first)
	}
	if someoneElse := id(gjj, other); someoneElse == first {
		t.Errorf("two citizens share the id %s in one application", first)
	}
}

func TestReadingTheIDNumberOrFaceImageIsAudited(t *testing.T) {
	t.Parallel()
	cases := []struct {
		level  string
		fields []any // nil: no entry
	}{
		{"basic", nil},
		{"identity", []any{"id_number"}},
		{"real_name", []any{"id_number", "face_image"}},
	}
	for _, tc := range cases {
		t.Run(tc.level, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			a := h.newApp(t, "公积金系统", tc.level)
			c := h.newCitizen(t, "13900000001", "14010519900307123X")
			tok := h.signIn(t, a, c)
			r := h.userInfoOf(t, a, tok.AccessToken)
			r.fields(t)

			reads := h.reads(t)
			if tc.fields == nil {
				if len(reads) != 0 {
					t.Errorf("a basic read wrote %d audit entries: %+v", len(reads), reads)
				}
				return
			}
			if len(reads) != 1 {
				t.Fatalf("%d audit entries, want 1: %+v", len(reads), reads)
			}
			e := reads[0]
			if e.ActorID != h.vendor.ID || e.ActorRole != "vendor-backend" || e.SubjectID != c.ID || e.RequestID != r.header.Get("X-Request-Id") {
				t.Errorf("audit entry %+v, want the vendor %s reading citizen %s in request %s", e, h.vendor.ID, c.ID, r.header.Get("X-Request-Id"))
			}
			if e.Detail["application_id"] != a.ID || e.Detail["environment"] != "test" || !slices.Equal(e.Detail["fields"].([]any), tc.fields) {
				t.Errorf("audit detail %v, want application %s, environment test, fields %v", e.Detail, a.ID, tc.fields)
			}
		})
	}
}

func TestATokenIsGoodOnlyForItsApplicationAndEnvironment(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.newApp(t, "公积金系统", "identity")
	other := h.newApp(t, "社保系统", "identity")
	h.goLive(t, a)
	c := h.newCitizen(t, "13900000001", "14010519900307123X")
	tok := h.signIn(t, a, c)
	prod, err := h.client(a).ExchangeTicket(context.Background(), h.issue(t, c, a.live))
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name         string
		appCode, sec string
		token        string
		code         string
	}{
		{"another application signing", other.AppCode, other.testSecret, tok.AccessToken, "invalid-token"},
		{"a production token signed with the test secret", a.AppCode, a.testSecret, prod.AccessToken, "environment-mismatch"},
		{"a test token signed with the production secret", a.AppCode, a.productionSecret, tok.AccessToken, "environment-mismatch"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := h.userInfo(t, tc.appCode, tc.sec, "Bearer "+tc.token)
			r.wantProblem(t, http.StatusUnauthorized, tc.code)
			if bytes.Contains(r.body, []byte(c.Mobile)) {
				t.Errorf("the refusal carries the mobile number: %s", r.body)
			}
		})
	}
	// Each token still works where it belongs.
	h.userInfoOf(t, a, tok.AccessToken).fields(t)
	if info, err := h.client(a).UserInfo(context.Background(), prod); err != nil || info.Environment != "production" {
		t.Errorf("the production token in production: %+v, %v", info, err)
	}
}

func TestAnExpiredTokenIsRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.newApp(t, "公积金系统", "basic")
	c := h.newCitizen(t, "13900000001", "")
	tok := h.signIn(t, a, c)
	h.userInfoOf(t, a, tok.AccessToken).fields(t)

	h.exec(t, `UPDATE access_tokens SET expires_at = now() - interval '1 second'`)
	h.userInfoOf(t, a, tok.AccessToken).wantProblem(t, http.StatusUnauthorized, "invalid-token")
}

func TestAReplayedTicketRevokesTheTokenIssuedFromIt(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.newApp(t, "公积金系统", "basic")
	c := h.newCitizen(t, "13900000001", "")
	client := h.client(a)
	ticket := h.issue(t, c, a.service)
	tok, err := client.ExchangeTicket(context.Background(), ticket)
	if err != nil {
		t.Fatal(err)
	}
	h.userInfoOf(t, a, tok.AccessToken).fields(t)

	_, err = client.ExchangeTicket(context.Background(), ticket)
	if sdk.Code(err) != "invalid-ticket" {
		t.Fatalf("replaying the ticket: %v, want invalid-ticket", err)
	}
	h.userInfoOf(t, a, tok.AccessToken).wantProblem(t, http.StatusUnauthorized, "invalid-token")
	_, err = client.UserInfo(context.Background(), tok)
	var e *sdk.Error
	if !errors.As(err, &e) || e.Status != http.StatusUnauthorized || e.Code != "invalid-token" {
		t.Errorf("the SDK's user info with the revoked token: %v, want 401 invalid-token", err)
	}
}

func TestUserInfoNeedsASignedRequestWithTheTokenAsBearer(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.newApp(t, "公积金系统", "basic")
	c := h.newCitizen(t, "13900000001", "")
	tok := h.signIn(t, a, c)

	cases := []struct {
		name, authorization, code string
	}{
		{"no Authorization", "", "invalid-token"},
		{"an empty bearer", "Bearer ", "invalid-token"},
		{"the token without its scheme", tok.AccessToken, "invalid-token"},
		{"a token nobody issued", "Bearer test_at_" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "invalid-token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h.userInfo(t, a.AppCode, a.testSecret, tc.authorization).wantProblem(t, http.StatusUnauthorized, tc.code)
		})
	}
	t.Run("unsigned", func(t *testing.T) {
		t.Parallel()
		req, _ := http.NewRequest("GET", h.srv.URL+userInfoPath, nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		reply{status: resp.StatusCode, header: resp.Header, body: body}.wantProblem(t, http.StatusUnauthorized, "signature-missing")
	})
}
