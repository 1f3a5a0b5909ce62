// Package tags stores the platform-managed list of service tags (the theme a service
// belongs to): administrators manage it, vendors choose from it.
package tags

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/fn"
)

// Tag is one entry of the list.
type Tag struct {
	Slug      string    `json:"slug"`
	Name      string    `json:"name"`
	SortOrder int       `json:"sort_order"`
	CreatedAt time.Time `json:"created_at"`
}

// List returns every tag in display order.
func List(ctx context.Context, q db.Querier) ([]Tag, error) {
	rows, err := q.Query(ctx, `SELECT slug, name, sort_order, created_at FROM tags ORDER BY sort_order, slug`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Tag{}
	for rows.Next() {
		var t Tag
		if err := rows.Scan(&t.Slug, &t.Name, &t.SortOrder, &t.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// Unknown returns the first of slugs that is not a tag, or "".
func Unknown(ctx context.Context, q db.Querier, slugs []string) (string, error) {
	var missing string
	err := q.QueryRow(ctx, `SELECT s FROM unnest($1::text[]) s WHERE NOT EXISTS (SELECT 1 FROM tags WHERE slug = s) LIMIT 1`, slugs).Scan(&missing)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return missing, err
}

// Create adds a tag.
func Create(ctx context.Context, q db.Querier, t Tag) (Tag, error) {
	err := q.QueryRow(ctx, `INSERT INTO tags (slug, name, sort_order) VALUES ($1, $2, $3) RETURNING created_at`,
		t.Slug, t.Name, t.SortOrder).Scan(&t.CreatedAt)
	if db.IsUniqueViolation(err, "") {
		return t, fn.Errorf(http.StatusConflict, "tag-exists", "A tag with that slug or name exists already.")
	}
	return t, err
}

// Delete removes a tag no service uses.
func Delete(ctx context.Context, q db.Querier, slug string) error {
	var used bool
	if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM services WHERE $1 = ANY(tags))`, slug).Scan(&used); err != nil {
		return err
	}
	if used {
		return fn.Errorf(http.StatusConflict, "tag-in-use", "Services use this tag; it cannot be deleted.")
	}
	tag, err := q.Exec(ctx, `DELETE FROM tags WHERE slug = $1`, slug)
	if err == nil && tag.RowsAffected() == 0 {
		return fn.NotFound("Tag")
	}
	return err
}
