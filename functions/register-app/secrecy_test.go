package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/jinlaiban/openplatform/shared/testenv"
)

// dumpDatabase returns every row of every table of the public schema as JSON text (bytea
// columns come out as \x hex).
func dumpDatabase(t *testing.T, h *harness) map[string][]string {
	t.Helper()
	ctx := context.Background()
	rows, err := h.pool.Query(ctx, `SELECT quote_ident(table_name) FROM information_schema.tables
		WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, table := range tables {
		rows, err := h.pool.Query(ctx, `SELECT row_to_json(t)::text FROM `+table+` t`)
		if err != nil {
			t.Fatal(err)
		}
		if out[table], err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// forms are the ways a plaintext may show in a dump: as it is, or hex-encoded in a bytea.
func forms(plain string) []string {
	return []string{plain, hex.EncodeToString([]byte(plain))}
}

func TestNoPlaintextSecretOrMobileAtRestOrInLogs(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	vendor := h.vendor("secretive-co")
	admin := h.admin("reviewer")
	const mobile = "18612345678"
	a := h.declare(vendor, with(declaration(), "contact_mobile", mobile))
	h.submit(vendor, a.ID)
	_, issued := h.approve(a.ID, admin)

	c := wantJSON[credentials](t, h.get("/api/v1/apps/"+a.ID+"/credentials", vendor.Token), http.StatusOK)
	if len(c.Secrets) != 1 || c.Secrets[0].Secret != issued {
		t.Fatalf("credentials = %+v, want the issued secret", c)
	}
	rot := wantJSON[rotation](t, h.post("/api/v1/apps/"+a.ID+"/secrets", vendor.Token, map[string]any{"environment": "test"}), http.StatusCreated)
	// A failing request too: its problem is logged as an access line only.
	wantProblem(t, h.put("/api/v1/apps/"+a.ID, vendor.Token, with(declaration(), "contact_mobile", mobile)), http.StatusConflict, "invalid-state")

	plaintexts := map[string]string{
		"issued test secret":   issued,
		"rotated test secret":  rot.New.Secret,
		"hex of issued secret": strings.TrimPrefix(issued, "test_"),
		"application mobile":   mobile,
		"account mobile":       "13800138000", // testenv gives every account this one
		"vendor password":      vendor.Password,
		"vendor session token": vendor.Token,
	}
	dump := dumpDatabase(t, h)
	for _, table := range []string{"accounts", "applications", "app_secrets", "audit_log", "sessions"} {
		if len(dump[table]) == 0 {
			t.Errorf("table %s is empty or missing: the scan would prove nothing", table)
		}
	}
	for table, rows := range dump {
		for _, row := range rows {
			for what, plain := range plaintexts {
				for _, form := range forms(plain) {
					if strings.Contains(row, form) {
						t.Errorf("%s holds the %s in the clear: %s", table, what, row)
					}
				}
			}
		}
	}

	logs := h.closedLogs()
	if !strings.Contains(logs, `"path":"/api/v1/apps/`+a.ID+`/credentials"`) {
		t.Fatalf("the access log misses the credentials request; logs:\n%s", logs)
	}
	for what, plain := range plaintexts {
		if strings.Contains(logs, plain) {
			t.Errorf("the logs hold the %s", what)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Errorf("log line is not JSON: %s", line)
			continue
		}
		if entry["level"] == "ERROR" {
			t.Errorf("error logged: %s", line)
		}
		if entry["msg"] == "request" && entry["request_id"] == nil {
			t.Errorf("access line without request_id: %s", line)
		}
	}
}

// A session token sent in a query string must not end up in the access log either.
func TestAccessLogLeavesOutQueryStrings(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	vendor := testenv.SignIn(t, h.pool, h.sealer, "vendor", "query-co")
	wantJSON[map[string]any](t, h.get("/api/v1/apps?status=draft&ticket=s3cr3t-t1cket", vendor.Token), http.StatusOK)
	logs := h.closedLogs()
	if strings.Contains(logs, "s3cr3t-t1cket") {
		t.Errorf("query string logged:\n%s", logs)
	}
	if !strings.Contains(logs, `"path":"/api/v1/apps"`) || !strings.Contains(logs, `"status":200`) {
		t.Errorf("access line missing:\n%s", logs)
	}
}
