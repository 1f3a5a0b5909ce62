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

// Sealed is a citizen's row as stored: personal data sealed. Queries of other packages that
// join citizens select SealedColumns (of a table aliased c) into it, and Open it when the
// caller may see it.
type Sealed struct {
	Mobile, IDNumber, Name, FaceImageKey []byte
	RealNameLevel                        string
}

// SealedColumns are the columns a Sealed is scanned from, in Targets' order.
const SealedColumns = "c.mobile, c.id_number, c.name, c.face_image_key, c.real_name_level"

// Targets are the scan destinations of SealedColumns.
func (z *Sealed) Targets() []any {
	return []any{&z.Mobile, &z.IDNumber, &z.Name, &z.FaceImageKey, &z.RealNameLevel}
}

// Open opens the personal data of citizen id.
func (z Sealed) Open(s *seal.Sealer, id string) (Citizen, error) {
	c := Citizen{ID: id, RealNameLevel: z.RealNameLevel}
	var err error
	if z.FaceImageKey != nil {
		if c.FaceImageKey, err = s.OpenString(facePurpose, z.FaceImageKey); err != nil {
			return c, err
		}
	}
	if c.Mobile, err = s.OpenString(mobilePurpose, z.Mobile); err != nil {
		return c, err
	}
	if z.IDNumber != nil {
		if c.IDNumber, err = s.OpenString(idNumberPurpose, z.IDNumber); err != nil {
			return c, err
		}
	}
	if z.Name != nil {
		c.Name, err = s.OpenString(namePurpose, z.Name)
	}
	return c, err
}

// Get returns a citizen with personal data opened.
func Get(ctx context.Context, q db.Querier, s *seal.Sealer, id string) (Citizen, error) {
	var z Sealed
	err := q.QueryRow(ctx, `SELECT `+SealedColumns+` FROM citizens c WHERE c.id = $1`, id).Scan(z.Targets()...)
	if errors.Is(err, pgx.ErrNoRows) {
		return Citizen{ID: id}, fn.NotFound("Citizen")
	}
	if err != nil {
		return Citizen{ID: id}, err
	}
	return z.Open(s, id)
}

// OpenMobile opens a sealed citizen mobile number read by a query of another package.
func OpenMobile(s *seal.Sealer, sealed []byte) (string, error) {
	return s.OpenString(mobilePurpose, sealed)
}
