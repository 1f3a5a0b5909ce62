package main

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

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

var errBlocked = errors.New("sign-in blocked")

// reserve counts an attempt as a failure against every key before its password is checked,
// and sets their wait, so that guesses sent in parallel cannot all be checked before the
// first failure counts. When a key is blocked it counts nothing and returns how long the
// caller must wait. An attempt that turns out right is taken back with succeeded or release.
func (t throttle) reserve(ctx context.Context, pool *pgxpool.Pool, keys []string) (time.Duration, error) {
	err := db.Tx(ctx, pool, func(tx pgx.Tx) error {
		for _, key := range keys { // always in the same order (login, then address): no deadlocks
			var failures int
			err := tx.QueryRow(ctx, `
				INSERT INTO login_throttle AS t (key, failures, window_start) VALUES ($1, 1, now())
				ON CONFLICT (key) DO UPDATE SET
					failures = CASE WHEN t.window_start < now() - $2::interval THEN 1 ELSE t.failures + 1 END,
					window_start = CASE WHEN t.window_start < now() - $2::interval THEN now() ELSE t.window_start END
				WHERE t.blocked_until IS NULL OR t.blocked_until <= now()
				RETURNING failures`, key, t.lockFor).Scan(&failures)
			if errors.Is(err, pgx.ErrNoRows) { // the row exists and is blocked
				return errBlocked
			}
			if err != nil {
				return err
			}
			if wait := t.wait(failures, t.limitFor(key)); wait > 0 {
				if _, err := tx.Exec(ctx, `UPDATE login_throttle SET blocked_until = now() + $2::interval WHERE key = $1`, key, wait); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if !errors.Is(err, errBlocked) {
		return 0, err
	}
	wait, err := t.blocked(ctx, pool, keys)
	if err == nil && wait < time.Second { // the wait ran out meanwhile
		wait = time.Second
	}
	return wait, err
}

// succeeded takes back a reserved attempt whose password was right: the login's failures
// are forgotten, and the address's reserved failure is not counted.
func (t throttle) succeeded(ctx context.Context, q db.Querier, keys []string) error {
	if err := t.clear(ctx, q, keys[0]); err != nil {
		return err
	}
	return t.release(ctx, q, keys[1:])
}

// release takes back a reserved attempt that was not a wrong password.
func (t throttle) release(ctx context.Context, q db.Querier, keys []string) error {
	for _, key := range keys {
		var failures int
		err := q.QueryRow(ctx, `UPDATE login_throttle SET failures = failures - 1 WHERE key = $1 AND failures > 0 RETURNING failures`, key).Scan(&failures)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return err
		}
		if t.wait(failures, t.limitFor(key)) == 0 {
			if _, err := q.Exec(ctx, `UPDATE login_throttle SET blocked_until = NULL WHERE key = $1`, key); err != nil {
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
