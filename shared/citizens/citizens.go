// Package citizens is the super-app's citizen directory as the open platform sees it:
// mobile number, national ID number, name, face image and real-name level. Personal data is
// sealed at rest; blind indexes find a citizen by mobile or ID number without decrypting.
package citizens

import (
	"context"
	"errors"
	"net/http"

	"github.com/jackc/pgx/v5"

	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/seal"
)

const (
	mobilePurpose   = "citizen-mobile"
	idNumberPurpose = "citizen-id-number"
	namePurpose     = "citizen-name"
	facePurpose     = "citizen-face-key"
)

// Citizen is one person of the directory.
type Citizen struct {
	ID            string
	Mobile        string
	IDNumber      string
	Name          string
	FaceImageKey  string
	RealNameLevel string // basic, identity or real_name
}

// Create adds a citizen (seeding in development and tests; in production the super-app's
// own directory feeds this table).
func Create(ctx context.Context, q db.Querier, s *seal.Sealer, c Citizen) (Citizen, error) {
	if c.RealNameLevel == "" {
		c.RealNameLevel = "basic"
	}
	err := q.QueryRow(ctx, `INSERT INTO citizens (mobile, mobile_index, id_number, id_number_index, name, face_image_key, real_name_level)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, sealedRow(s, c)...).Scan(&c.ID)
	if db.IsUniqueViolation(err, "") {
		return c, fn.Errorf(http.StatusConflict, "citizen-exists", "A citizen with that mobile or ID number exists already.")
	}
	return c, err
}

// sealedRow is a citizen as stored, in the order of sealedColumns: personal data sealed,
// blind indexes for the mobile and ID numbers.
func sealedRow(s *seal.Sealer, c Citizen) []any {
	var idNum, idIdx, name, face any
	if c.IDNumber != "" {
		idNum, idIdx = s.SealString(idNumberPurpose, c.IDNumber), s.Index(idNumberPurpose, c.IDNumber)
	}
	if c.Name != "" {
		name = s.SealString(namePurpose, c.Name)
	}
	if c.FaceImageKey != "" {
		face = s.SealString(facePurpose, c.FaceImageKey)
	}
	return []any{s.SealString(mobilePurpose, c.Mobile), s.Index(mobilePurpose, c.Mobile), idNum, idIdx, name, face, c.RealNameLevel}
}

var sealedColumns = []string{"mobile", "mobile_index", "id_number", "id_number_index", "name", "face_image_key", "real_name_level"}

// IDByMobile finds a citizen by mobile number.
func IDByMobile(ctx context.Context, q db.Querier, s *seal.Sealer, mobile string) (string, error) {
	var id string
	err := q.QueryRow(ctx, `SELECT id FROM citizens WHERE mobile_index = $1`, s.Index(mobilePurpose, mobile)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fn.NotFound("Citizen with that mobile number")
	}
	return id, err
}

// Get returns a citizen with personal data opened.
func Get(ctx context.Context, q db.Querier, s *seal.Sealer, id string) (Citizen, error) {
	c := Citizen{ID: id}
	var mobile, idNum, name, face []byte
	err := q.QueryRow(ctx, `SELECT mobile, id_number, name, face_image_key, real_name_level FROM citizens WHERE id = $1`, id).
		Scan(&mobile, &idNum, &name, &face, &c.RealNameLevel)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, fn.NotFound("Citizen")
	}
	if err != nil {
		return c, err
	}
	if face != nil {
		if c.FaceImageKey, err = s.OpenString(facePurpose, face); err != nil {
			return c, err
		}
	}
	if c.Mobile, err = s.OpenString(mobilePurpose, mobile); err != nil {
		return c, err
	}
	if idNum != nil {
		if c.IDNumber, err = s.OpenString(idNumberPurpose, idNum); err != nil {
			return c, err
		}
	}
	if name != nil {
		c.Name, err = s.OpenString(namePurpose, name)
	}
	return c, err
}

// OpenMobile opens a sealed citizen mobile number read by a query of another package.
func OpenMobile(s *seal.Sealer, sealed []byte) (string, error) {
	return s.OpenString(mobilePurpose, sealed)
}
