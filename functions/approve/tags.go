package main

import (
	"net/http"
	"regexp"

	"github.com/jackc/pgx/v5"

	"github.com/jinlaiban/openplatform/shared/audit"
	"github.com/jinlaiban/openplatform/shared/auth"
	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/tags"
	"github.com/jinlaiban/openplatform/shared/valid"
)

func (s *server) listTags(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	list, err := tags.List(r.Context(), s.pool)
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusOK, map[string]any{"items": list})
}

var slugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,39}$`)

type tagRequest struct {
	Slug      string `json:"slug"`
	Name      string `json:"name"`
	SortOrder int    `json:"sort_order"`
}

func (t *tagRequest) Valid() map[string]string {
	m := valid.Collect("name", valid.Line(t.Name, 1, 20))
	if !slugPattern.MatchString(t.Slug) {
		m["slug"] = "must be 2-40 lower-case letters, digits and dashes"
	}
	return m
}

func (s *server) createTag(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	req, err := fn.Decode[tagRequest](r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	var t tags.Tag
	err = db.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		if t, err = tags.Create(ctx, tx, tags.Tag{Slug: req.Slug, Name: req.Name, SortOrder: req.SortOrder}); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: p.AccountID, ActorRole: p.Role, Action: "tag.create", SubjectType: "tag", SubjectID: t.Slug})
	})
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusCreated, t)
}

func (s *server) deleteTag(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	slug := r.PathValue("slug")
	if !slugPattern.MatchString(slug) {
		return fn.NotFound("Tag")
	}
	ctx := r.Context()
	err := db.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		if err := tags.Delete(ctx, tx, slug); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{ActorID: p.AccountID, ActorRole: p.Role, Action: "tag.delete", SubjectType: "tag", SubjectID: slug})
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
