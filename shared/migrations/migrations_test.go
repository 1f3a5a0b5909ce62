package migrations_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jinlaiban/openplatform/shared/migrations"
	"github.com/jinlaiban/openplatform/shared/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestApplyIsIdempotent(t *testing.T) {
	t.Parallel()
	url := testenv.DatabaseURL(t) // already migrated from the template
	if err := migrations.Apply(context.Background(), url, nil); err != nil {
		t.Fatalf("second apply: %v", err)
	}
}

func TestAuditLogIsAppendOnly(t *testing.T) {
	t.Parallel()
	pool := testenv.Pool(t)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `INSERT INTO audit_log (actor_role, action, subject_type, subject_id) VALUES ('admin', 'x', 'y', 'z')`); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{`UPDATE audit_log SET action = 'changed'`, `DELETE FROM audit_log`, `TRUNCATE audit_log`} {
		_, err := pool.Exec(ctx, stmt)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: want append-only refusal, got %v", stmt, err)
		}
	}
}
