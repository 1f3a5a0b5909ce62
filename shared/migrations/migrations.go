// Package migrations holds the schema as versioned SQL files and applies them. Only the
// migrate function (and the test and dev harnesses) call Apply: a function never migrates
// implicitly at start.
package migrations

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"sort"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/tern/v2/migrate"
)

//go:embed sql/*.sql
var files embed.FS

// VersionTable records the applied version.
const VersionTable = "public.schema_version"

// Apply brings the database at url to the newest schema. Safe to run concurrently: tern
// locks the version table while migrating.
func Apply(ctx context.Context, url string, logf func(format string, args ...any)) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(ctx)
	m, err := migrate.NewMigrator(ctx, conn, VersionTable)
	if err != nil {
		return err
	}
	sub, _ := fs.Sub(files, "sql")
	if err := m.LoadMigrations(sub); err != nil {
		return err
	}
	if logf != nil {
		m.OnStart = func(seq int32, name, direction, _ string) { logf("migration %d %s (%s)", seq, name, direction) }
	}
	return m.Migrate(ctx)
}

// Fingerprint identifies the set of migrations, so test templates built from an older
// schema are not reused.
func Fingerprint() string {
	h := sha256.New()
	entries, _ := fs.ReadDir(files, "sql")
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	for _, n := range names {
		b, _ := files.ReadFile("sql/" + n)
		h.Write([]byte(n))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}
