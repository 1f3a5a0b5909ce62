package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/jinlaiban/openplatform/shared/apps"
	"github.com/jinlaiban/openplatform/shared/audit"
	"github.com/jinlaiban/openplatform/shared/db"
)

func TestApprovalLeavesNoPlaintextSecretOrMobileInDatabaseOrLogs(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin := h.admin("reviewer")
	vendor := h.vendor("acme")
	const mobile = "17712345678"
	d := declaration("Acme Parking")
	d.ContactMobile = mobile
	ctx := context.Background()
	a, err := apps.Create(ctx, h.pool, h.sealer, vendor.ID, d)
	if err != nil {
		t.Fatal(err)
	}
	h.submit(vendor, a.ID)
	rejected := h.pending(vendor, "Acme Library")

	// The review desk: queue, detail, approval, a rejection, a refused decision.
	wantJSON[apps.Page](t, h.get("/api/v1/admin/applications?status=", admin.Token), http.StatusOK)
	wantJSON[detail](t, h.get("/api/v1/admin/applications/"+a.ID, admin.Token), http.StatusOK)
	h.approve(admin, a.ID)
	h.reject(admin, rejected.ID, "Missing privacy notice.")
	wantProblem(t, h.post(approvePath(a.ID), admin.Token, nil), http.StatusConflict, "invalid-state")

	// The vendor views the credentials the way register-app does: opened, and audited.
	var plain string
	err = db.Tx(ctx, h.pool, func(tx pgx.Tx) error {
		ss, err := apps.Secrets(ctx, tx, h.sealer, a.ID)
		if err != nil || len(ss) != 1 {
			t.Fatalf("secrets %+v: %v", ss, err)
		}
		plain = ss[0].Secret
		return audit.Record(ctx, tx, audit.Entry{ActorID: vendor.ID, ActorRole: "vendor", Action: "credentials.view",
			SubjectType: "application", SubjectID: a.ID})
	})
	if err != nil {
		t.Fatal(err)
	}
	if !testSecretRE.MatchString(plain) {
		t.Fatalf("secret = %q", plain)
	}

	plaintexts := map[string]string{
		"test secret":          plain,
		"secret without label": strings.TrimPrefix(plain, "test_"),
		"application mobile":   mobile,
		"account mobile":       "13800138000",
		"admin password":       admin.Password,
		"admin session token":  admin.Token,
	}
	rows, err := h.pool.Query(ctx, `SELECT quote_ident(table_name) FROM information_schema.tables
		WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	scanned := map[string]int{}
	for _, table := range tables {
		rows, err := h.pool.Query(ctx, `SELECT row_to_json(t)::text FROM `+table+` t`)
		if err != nil {
			t.Fatal(err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		scanned[table] = len(lines)
		for _, line := range lines {
			for what, p := range plaintexts {
				// As text, or hex-encoded inside a bytea column.
				if strings.Contains(line, p) || strings.Contains(line, hex.EncodeToString([]byte(p))) {
					t.Errorf("%s holds the %s in the clear: %s", table, what, line)
				}
			}
		}
	}
	for _, table := range []string{"accounts", "applications", "app_secrets", "audit_log", "outbox", "review_decisions", "sessions"} {
		if scanned[table] == 0 {
			t.Errorf("table %s is empty or missing (scanned %v): the scan would prove nothing", table, scanned)
		}
	}

	logs := h.closedLogs()
	if !strings.Contains(logs, `"path":"`+approvePath(a.ID)+`"`) {
		t.Fatalf("the access log misses the approval; logs:\n%s", logs)
	}
	for what, p := range plaintexts {
		if strings.Contains(logs, p) {
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
	}
}
