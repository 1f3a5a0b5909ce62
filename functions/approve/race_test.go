package main

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/jinlaiban/openplatform/shared/apps"
	"github.com/jinlaiban/openplatform/shared/testenv"
)

// race sends each request at the same moment: every goroutine is ready and waiting on one
// barrier before any is released.
func (h *harness) race(reqs []func() (response, error)) []response {
	h.t.Helper()
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	out := make([]response, len(reqs))
	errs := make([]error, len(reqs))
	for i, do := range reqs {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			out[i], errs[i] = do()
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	for i, err := range errs {
		if err != nil {
			h.t.Fatalf("request %d: %v", i, err)
		}
	}
	return out
}

func TestConcurrentApprovalsIssueCredentialsExactlyOnce(t *testing.T) {
	t.Parallel()
	for _, admins := range []int{2, 10} {
		t.Run(fmt.Sprintf("%d admins", admins), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			vendor := h.vendor("acme")
			a := h.pending(vendor, "Acme Parking")
			var reviewers []testenv.Person
			for i := range admins {
				reviewers = append(reviewers, h.admin(fmt.Sprintf("reviewer-%d", i)))
			}
			var reqs []func() (response, error)
			for _, admin := range reviewers {
				reqs = append(reqs, func() (response, error) {
					return h.send(http.MethodPost, approvePath(a.ID), admin.Token, "", nil)
				})
			}
			results := h.race(reqs)

			var won []apps.Application
			winner := ""
			for i, r := range results {
				switch r.Status {
				case http.StatusOK:
					won = append(won, wantJSON[apps.Application](t, r, http.StatusOK))
					winner = reviewers[i].ID
				case http.StatusConflict:
					if p := wantProblem(t, r, http.StatusConflict, "invalid-state"); p.AppStatus != apps.Approved {
						t.Errorf("loser sees application_status %q, want approved", p.AppStatus)
					}
				default:
					t.Errorf("reviewer %d got %d: %s", i, r.Status, r)
				}
			}
			if len(won) != 1 {
				t.Fatalf("%d approvals succeeded, want exactly 1", len(won))
			}
			stored := h.stored(a.ID)
			if stored.Status != apps.Approved || stored.AppCode != won[0].AppCode {
				t.Errorf("stored app_code %q, the winner was told %q", stored.AppCode, won[0].AppCode)
			}
			if n := h.count(`SELECT count(DISTINCT app_code) FROM applications WHERE app_code IS NOT NULL`); n != 1 {
				t.Errorf("%d app_codes, want 1", n)
			}
			if n := h.count(`SELECT count(*) FROM app_secrets WHERE application_id = $1`, a.ID); n != 1 {
				t.Errorf("%d secrets issued, want 1", n)
			}
			if n := h.count(`SELECT count(*) FROM review_decisions WHERE subject_id = $1 AND admin_id = $2`, a.ID, winner); n != 1 {
				t.Errorf("winner has %d decision rows, want 1", n)
			}
			for table, want := range map[string]int{"review_decisions": 1, "outbox": 1, "audit_log": 1} {
				if n := h.count(`SELECT count(*) FROM ` + table); n != want {
					t.Errorf("%d %s rows, want %d", n, table, want)
				}
			}
		})
	}
}

func TestApproveAndRejectRacingLeaveOneConsistentDecision(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	vendor := h.vendor("acme")
	a := h.pending(vendor, "Acme Parking")
	var reqs []func() (response, error)
	for i := range 8 {
		admin := h.admin(fmt.Sprintf("reviewer-%d", i))
		if i%2 == 0 {
			reqs = append(reqs, func() (response, error) { return h.send(http.MethodPost, approvePath(a.ID), admin.Token, "", nil) })
		} else {
			reqs = append(reqs, func() (response, error) {
				return h.send(http.MethodPost, rejectPath(a.ID), admin.Token, "", map[string]string{"reason": "Too late?"})
			})
		}
	}
	results := h.race(reqs)
	var winners []apps.Application
	for i, r := range results {
		switch r.Status {
		case http.StatusOK:
			winners = append(winners, wantJSON[apps.Application](t, r, http.StatusOK))
		case http.StatusConflict:
			wantProblem(t, r, http.StatusConflict, "invalid-state")
		default:
			t.Errorf("request %d got %d: %s", i, r.Status, r)
		}
	}
	if len(winners) != 1 {
		t.Fatalf("%d decisions succeeded, want exactly 1", len(winners))
	}
	stored := h.stored(a.ID)
	if stored.Status != winners[0].Status {
		t.Errorf("stored status %q, the winner decided %q", stored.Status, winners[0].Status)
	}
	wantSecrets := 0
	if stored.Status == apps.Approved {
		wantSecrets = 1
	}
	if n := h.count(`SELECT count(*) FROM app_secrets`); n != wantSecrets {
		t.Errorf("%d secrets after a %s decision, want %d", n, stored.Status, wantSecrets)
	}
	for _, table := range []string{"review_decisions", "outbox", "audit_log"} {
		if n := h.count(`SELECT count(*) FROM ` + table); n != 1 {
			t.Errorf("%d %s rows, want 1", n, table)
		}
	}
	var evType string
	if err := h.pool.QueryRow(t.Context(), `SELECT type FROM outbox`).Scan(&evType); err != nil {
		t.Fatal(err)
	}
	if want := "cn.jinlaiban.openplatform.application." + stored.Status + ".v1"; evType != want {
		t.Errorf("event %q for a %s application", evType, stored.Status)
	}
}
