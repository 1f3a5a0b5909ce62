package main

import (
	"context"
	"math"
	"time"

	"github.com/jinlaiban/openplatform/shared/db"
)

// throttle slows down and then locks repeated failed sign-ins. Each key (a login name, a
// client address) counts failures within a window; after a few failures every further
// attempt must wait longer (2 s, 4 s, …), and at lockAfter failures the key is locked for
// lockFor. Addresses get four times the allowance, since offices share one.
type throttle struct {
	lockAfter int
	lockFor   time.Duration
}

func newThrottle(lockAfter int, lockFor time.Duration) throttle {
	return throttle{lockAfter: lockAfter, lockFor: lockFor}
}

func (t throttle) limitFor(key string) int {
	if len(key) > 5 && key[:5] == "addr:" {
		return 4 * t.lockAfter
	}
	return t.lockAfter
}

// blocked returns how long the caller must still wait, zero when it may try now.
func (t throttle) blocked(ctx context.Context, q db.Querier, keys []string) (time.Duration, error) {
	var until *time.Time
	err := q.QueryRow(ctx, `SELECT max(blocked_until) FROM login_throttle WHERE key = ANY($1) AND blocked_until > now()`, keys).Scan(&until)
	if err != nil || until == nil {
		return 0, err
	}
	return time.Until(*until), nil
}

// fail counts a failure against every key and sets their wait.
func (t throttle) fail(ctx context.Context, q db.Querier, keys []string) error {
	for _, key := range keys {
		var failures int
		err := q.QueryRow(ctx, `
			INSERT INTO login_throttle AS t (key, failures, window_start) VALUES ($1, 1, now())
			ON CONFLICT (key) DO UPDATE SET
				failures = CASE WHEN t.window_start < now() - $2::interval THEN 1 ELSE t.failures + 1 END,
				window_start = CASE WHEN t.window_start < now() - $2::interval THEN now() ELSE t.window_start END
			RETURNING failures`, key, t.lockFor).Scan(&failures)
		if err != nil {
			return err
		}
		if wait := t.wait(failures, t.limitFor(key)); wait > 0 {
			if _, err := q.Exec(ctx, `UPDATE login_throttle SET blocked_until = now() + $2::interval WHERE key = $1`, key, wait); err != nil {
				return err
			}
		}
	}
	return nil
}

func (t throttle) wait(failures, limit int) time.Duration {
	switch {
	case failures >= limit:
		return t.lockFor
	case failures >= limit-2 && failures >= 2:
		return time.Duration(math.Pow(2, float64(failures-limit+3))) * time.Second
	}
	return 0
}

// clear forgets a key's failures after a successful sign-in.
func (t throttle) clear(ctx context.Context, q db.Querier, key string) error {
	_, err := q.Exec(ctx, `DELETE FROM login_throttle WHERE key = $1`, key)
	return err
}
