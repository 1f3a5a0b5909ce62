package main

import (
	"net/http"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jinlaiban/openplatform/shared/audit"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/objstore"
	"github.com/jinlaiban/openplatform/shared/seal"
	"github.com/jinlaiban/openplatform/shared/sso"
	"github.com/jinlaiban/openplatform/shared/vendorauth"
)

type deps struct {
	pool     *pgxpool.Pool
	sealer   *seal.Sealer
	store    *objstore.Presigner
	verifier *vendorauth.Verifier
	cfg      config
}

type server struct{ deps }

func newServer(d deps) http.Handler {
	s := &server{d}
	r := fn.NewRouter()
	r.Handle("GET /api/v1/sso/userinfo", d.verifier.Guard(s.userInfo))
	return r
}

// UserInfo is the citizen as the application may see them. Fields beyond the level are
// absent, not empty.
type UserInfo struct {
	ID           string `json:"id"`
	Mobile       string `json:"mobile,omitempty"`
	IDNumber     string `json:"id_number,omitempty"`
	FaceImageURL string `json:"face_image_url,omitempty"`
	Level        string `json:"level"`
	Environment  string `json:"environment"`
}

// userInfo answers "Authorization: Bearer <access token>" in a request signed by the
// application the token was issued to.
func (s *server) userInfo(w http.ResponseWriter, r *http.Request, c vendorauth.Caller) error {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		return fn.Errorf(http.StatusUnauthorized, "invalid-token", "Send the access token as Authorization: Bearer <token>.")
	}
	ctx := r.Context()
	g, err := sso.Lookup(ctx, s.pool, c.AppID, c.Environment, token)
	if err != nil {
		return err
	}
	if g.UserInfoLevel == "" {
		return fn.Errorf(http.StatusForbidden, "no-user-info", "This application was approved without user info.")
	}
	citizen, err := g.Citizen.Open(s.sealer, g.CitizenID)
	if err != nil {
		return err
	}
	info := UserInfo{ID: sso.PairwiseID(s.sealer, c.AppID, g.CitizenID), Mobile: citizen.Mobile, Level: g.UserInfoLevel, Environment: g.Environment}
	var read []string
	if g.UserInfoLevel == "identity" || g.UserInfoLevel == "real_name" {
		info.IDNumber, read = citizen.IDNumber, append(read, "id_number")
	}
	if g.UserInfoLevel == "real_name" && citizen.FaceImageKey != "" {
		if info.FaceImageURL, err = s.store.PresignGet(ctx, citizen.FaceImageKey, "", s.cfg.FaceURLTTL); err != nil {
			return err
		}
		read = append(read, "face_image")
	}
	if len(read) > 0 {
		err := audit.Record(ctx, s.pool, audit.Entry{ActorID: c.VendorID, ActorRole: "vendor-backend", Action: "citizen.read",
			SubjectType: "citizen", SubjectID: g.CitizenID, Detail: map[string]any{"application_id": c.AppID, "fields": read, "environment": c.Environment}})
		if err != nil {
			return err
		}
	}
	return fn.JSON(w, http.StatusOK, info)
}
