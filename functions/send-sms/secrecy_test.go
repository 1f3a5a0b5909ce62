package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Numbers are stored sealed, with a blind index for the limits, and parameters sealed in the
// development provider's record; the logs hold no number, parameter, citizen id or secret.
func TestNoPlaintextNumbersOrParameters(t *testing.T) {
	t.Parallel()
	h, _ := withFakeProvider(t, defaultSettings())
	dev := newHarness(t)
	const code, item = "918273", "机密事项-7f3a"
	staff := "13511112222"
	var citizenMobiles, citizenIDs []string
	for _, h := range []*harness{h, dev} {
		a := h.grantedApp("晋城市住房公积金中心")
		c := h.newCitizen()
		to := h.pairwise(a, c)
		citizenMobiles, citizenIDs = append(citizenMobiles, c.Mobile), append(citizenIDs, c.ID, to, a.Secret)
		h.sent(a, smsForm{TemplateCode: codeTemplate, Params: map[string]string{"code": code}, CitizenID: to})
		h.sent(a, smsForm{TemplateCode: doneTemplate, Params: map[string]string{"item": item, "date": "5月20日"}, Mobile: staff})
		h.signed(a, "POST", sendPath, smsForm{TemplateCode: codeTemplate, Params: map[string]string{"code": code}, Mobile: staff},
			idempotencyKey(h.newKey())).want(t, http.StatusCreated)
		h.signed(a, "POST", sendPath, smsForm{TemplateCode: codeTemplate, Params: map[string]string{"code": code}, Mobile: staff},
			idempotencyKey(h.newKey())).wantProblem(t, http.StatusTooManyRequests, "sms-number-limit")
		h.signed(a, "POST", sendPath, smsForm{TemplateCode: codeTemplate, Params: map[string]string{"code": code, "x": item}, Mobile: staff}).
			wantInvalid(t, "params.x")
		h.signed(a, "POST", sendPath, smsForm{TemplateCode: codeTemplate, Params: map[string]string{"code": code}, Mobile: "1" + staff}).
			wantInvalid(t, "mobile")
		h.signed(a, "GET", "/api/v1/sms/sends", nil).want(t, http.StatusOK)
	}
	dev.inbox(staff)
	dev.inbox(citizenMobiles[1])

	secrets := append([]string{staff, "1" + staff, code, item}, citizenMobiles...)
	for _, x := range []*harness{h, dev} {
		for _, table := range []string{"sms_sends", "dev_sms"} {
			for _, row := range x.rows(table) {
				// (The code's 6 digits could turn up by chance in the hex of a sealed column:
				// the raw columns are checked for it below.)
				for _, s := range secrets {
					if s != code && strings.Contains(row, s) {
						t.Errorf("%s holds %q in the clear: %s", table, s, row)
					}
				}
			}
		}
		// The raw columns, not only their text form, hold no plaintext.
		rows, err := x.pool.Query(context.Background(), `SELECT to_mobile FROM sms_sends UNION ALL SELECT to_mobile FROM dev_sms UNION ALL SELECT params FROM dev_sms`)
		if err != nil {
			t.Fatal(err)
		}
		blobs, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range blobs {
			for _, s := range secrets {
				if bytes.Contains(b, []byte(s)) {
					t.Errorf("a sealed column holds %q", s)
				}
			}
		}
		// One blind index per number: the limits can count, and nothing else can be read.
		if n := scalar[int](x, `SELECT count(DISTINCT to_index) FROM sms_sends`); n != 2 {
			t.Errorf("%d distinct indexes for 2 numbers", n)
		}
	}

	for _, x := range []*harness{h, dev} {
		logs := x.closedLogs()
		if !strings.Contains(logs, `"path":"/api/v1/sms/send"`) {
			t.Fatalf("the access log misses the sends; logs:\n%s", logs)
		}
		for _, s := range append(append([]string{}, secrets...), citizenIDs...) {
			if strings.Contains(logs, s) {
				t.Errorf("the logs hold %q", s)
			}
		}
		for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
			var entry map[string]any
			if err := json.Unmarshal([]byte(line), &entry); err != nil {
				t.Errorf("log line is not JSON: %s", line)
			}
		}
	}
}

// A refusing provider's failure is logged without the message.
func TestProviderFailureLogsNoMessage(t *testing.T) {
	t.Parallel()
	h, f := withFakeProvider(t, defaultSettings())
	a := h.grantedApp("晋城市住房公积金中心")
	f.failing.Store(true)
	h.signed(a, "POST", sendPath, smsForm{TemplateCode: codeTemplate, Params: map[string]string{"code": "564738"}, Mobile: "13522223333"}).
		wantProblem(t, http.StatusBadGateway, "sms-provider-failed")
	logs := h.closedLogs()
	if !strings.Contains(logs, "sms provider refused") {
		t.Fatalf("the failure is not logged; logs:\n%s", logs)
	}
	for _, s := range []string{"13522223333", "564738"} {
		if strings.Contains(logs, s) {
			t.Errorf("the logs hold %q", s)
		}
	}
}

// rows is every row of a table as JSON text.
func (h *harness) rows(table string) []string {
	h.t.Helper()
	rows, err := h.pool.Query(context.Background(), `SELECT row_to_json(t)::text FROM `+table+` t`)
	if err != nil {
		h.t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		h.t.Fatal(err)
	}
	return out
}
