package services

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/objstore"
	"github.com/jinlaiban/openplatform/shared/valid"
)

// File kinds a service has.
const (
	KindLogo             = "logo"
	KindFunctionalReport = "functional_report"
	KindSecurityReport   = "security_report"
)

// kindRule bounds what a file of a kind may be: its size and its types, each content type
// mapped to the format its first bytes must show.
type kindRule struct {
	maxSize    int64
	types      map[string]string
	allowEmpty bool // an empty report is a placeholder "to be completed"
	column     string
}

var reportTypes = map[string]string{
	"application/pdf":    "pdf",
	"application/msword": "doc",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document": "zip",
	"application/zip": "zip",
}

var kinds = map[string]kindRule{
	KindLogo:             {maxSize: 512 << 10, types: map[string]string{"image/png": "png", "image/jpeg": "jpeg", "image/svg+xml": "svg"}, column: "logo"},
	KindFunctionalReport: {maxSize: 20 << 20, types: reportTypes, allowEmpty: true, column: "functional_report"},
	KindSecurityReport:   {maxSize: 20 << 20, types: reportTypes, allowEmpty: true, column: "security_report"},
}

// UploadRequest asks to upload one file.
type UploadRequest struct {
	Kind        string `json:"kind"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	Filename    string `json:"filename"`
}

// Valid checks the request against the kind's bounds.
func (u *UploadRequest) Valid() map[string]string {
	m := map[string]string{}
	rule, ok := kinds[u.Kind]
	if !ok {
		m["kind"] = "must be logo, functional_report or security_report"
		return m
	}
	if rule.types[u.ContentType] == "" {
		m["content_type"] = "must be one of " + strings.Join(sortedKeys(rule.types), ", ")
	}
	switch {
	case u.Size < 0:
		m["size"] = "must not be negative"
	case u.Size == 0 && !rule.allowEmpty:
		m["size"] = "must not be empty"
	case u.Size > rule.maxSize:
		m["size"] = fmt.Sprintf("must be at most %d bytes", rule.maxSize)
	}
	if r := valid.Line(u.Filename, 1, 200); r != "" {
		m["filename"] = r
	}
	return m
}

// Upload is a started upload.
type Upload struct {
	ID        string
	Key       string
	ExpiresAt time.Time
}

// UploadTTL is how long a presigned upload URL and its record stay valid.
const UploadTTL = 15 * time.Minute

// StartUpload records an upload to a service of vendorID under a key the server chooses;
// the caller presigns a PUT for it.
func StartUpload(ctx context.Context, tx db.Querier, vendorID, serviceID string, u UploadRequest) (Upload, error) {
	s, err := lockOwned(ctx, tx, vendorID, serviceID)
	if err != nil {
		return Upload{}, err
	}
	if !completionEditable(s.Status) {
		return Upload{}, stateProblem(s, "given new files")
	}
	var up Upload
	err = tx.QueryRow(ctx, `WITH id AS (SELECT gen_random_uuid() AS id)
		INSERT INTO uploads (id, service_id, kind, object_key, content_type, size, filename, expires_at)
		SELECT id.id, $1::uuid, $2, 'services/' || $1::uuid || '/' || $2 || '/' || id.id, $3, $4, $5, now() + $6::interval FROM id
		RETURNING id, object_key, expires_at`,
		serviceID, u.Kind, u.ContentType, u.Size, u.Filename, UploadTTL).Scan(&up.ID, &up.Key, &up.ExpiresAt)
	return up, err
}

// Inspector is what completion needs of the object store.
type Inspector interface {
	Head(ctx context.Context, key string) (int64, error)
	ReadPrefix(ctx context.Context, key string, n int64) ([]byte, error)
	Delete(ctx context.Context, key string) error
}

func rejected(detail string) *fn.Problem {
	return fn.Errorf(http.StatusUnprocessableEntity, "upload-rejected", detail)
}

// CompleteUpload checks what arrived (size and first bytes against the declared type) and
// attaches the file to the service. A file that fails the check is deleted.
func CompleteUpload(ctx context.Context, tx db.Querier, store Inspector, vendorID, serviceID, uploadID string) (Service, error) {
	s, err := lockOwned(ctx, tx, vendorID, serviceID)
	if err != nil {
		return s, err
	}
	if !completionEditable(s.Status) {
		return s, stateProblem(s, "given new files")
	}
	var kind, key, contentType, status string
	var size int64
	var expired bool
	err = tx.QueryRow(ctx, `SELECT kind, object_key, content_type, size, status, expires_at < now() FROM uploads
		WHERE id = $1 AND service_id = $2 FOR UPDATE`, uploadID, serviceID).Scan(&kind, &key, &contentType, &size, &status, &expired)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, fn.NotFound("Upload")
	}
	if err != nil {
		return s, err
	}
	switch {
	case status == "complete":
		return s, fn.Errorf(http.StatusConflict, fn.CodeInvalidState, "This upload is already complete.")
	case expired:
		_ = store.Delete(ctx, key)
		return s, fn.Errorf(http.StatusConflict, "upload-expired", "This upload expired; start a new one.")
	}
	got, err := store.Head(ctx, key)
	if errors.Is(err, objstore.ErrNotFound) {
		return s, fn.Errorf(http.StatusConflict, "upload-missing", "Nothing has been uploaded yet: PUT the file to the upload URL first.")
	}
	if err != nil {
		return s, err
	}
	rule := kinds[kind]
	if got != size {
		_ = store.Delete(ctx, key)
		return s, rejected(fmt.Sprintf("The uploaded file has %d bytes, but %d were announced; upload it again.", got, size))
	}
	if got > 0 {
		n := int64(1024)
		if rule.types[contentType] == "svg" {
			n = rule.maxSize
		}
		head, err := store.ReadPrefix(ctx, key, n)
		if err != nil {
			return s, err
		}
		if want, format := rule.types[contentType], Sniff(head); format != want {
			_ = store.Delete(ctx, key)
			if format == "svg-unsafe" {
				return s, rejected("The SVG contains scripts or event handlers; upload a plain image.")
			}
			return s, rejected(fmt.Sprintf("The file's content is not %s as announced (%s).", want, contentType))
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE uploads SET status = 'complete' WHERE id = $1`, uploadID); err != nil {
		return s, err
	}
	_, err = tx.Exec(ctx, fmt.Sprintf(`UPDATE services SET %[1]s_key = $2, updated_at = now() WHERE id = $1`, rule.column), serviceID, key)
	if err != nil {
		return s, err
	}
	if kind != KindLogo {
		if _, err := tx.Exec(ctx, fmt.Sprintf(`UPDATE services SET %s_size = $2 WHERE id = $1`, rule.column), serviceID, got); err != nil {
			return s, err
		}
	}
	return Get(ctx, tx, serviceID)
}

// eventHandler finds an event-handler attribute (onload, onbegin, onfocusin, …) however it is
// separated from what precedes it: a space, a line break, a tab, a slash or a quote.
var eventHandler = regexp.MustCompile(`[\s/"']on[a-z]+\s*=`)

// Sniff names a file's format from its first bytes: png, jpeg, svg (or svg-unsafe when it
// carries scripts), pdf, doc (OLE2), zip (ZIP and DOCX), or "" when unknown.
func Sniff(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "png"
	case bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}):
		return "jpeg"
	case bytes.HasPrefix(b, []byte("%PDF-")):
		return "pdf"
	case bytes.HasPrefix(b, []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}):
		return "doc"
	case bytes.HasPrefix(b, []byte("PK\x03\x04")):
		return "zip"
	}
	text := bytes.ToLower(bytes.TrimSpace(bytes.TrimPrefix(b, []byte("\xEF\xBB\xBF"))))
	if (bytes.HasPrefix(text, []byte("<?xml")) || bytes.HasPrefix(text, []byte("<svg"))) && bytes.Contains(text, []byte("<svg")) {
		for _, bad := range []string{"<script", "javascript:", "<foreignobject", "<iframe", "<!entity", "<!doctype", "&#", "xlink:href=\"data:", "href=\"data:"} {
			if bytes.Contains(text, []byte(bad)) {
				return "svg-unsafe"
			}
		}
		if eventHandler.Match(text) {
			return "svg-unsafe"
		}
		return "svg"
	}
	return ""
}

// extensions name downloads by their checked type.
var extensions = map[string]string{
	"image/png": "png", "image/jpeg": "jpg", "image/svg+xml": "svg", "application/pdf": "pdf", "application/msword": "doc",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx", "application/zip": "zip",
}

// Download describes an attached file for a presigned download.
type Download struct {
	Key         string
	ContentType string
	Filename    string // the service code and the kind, never the uploader's name for it
}

// AttachedFile finds the file of kind attached to s.
func AttachedFile(ctx context.Context, q db.Querier, s Service, kind string) (Download, error) {
	key := s.Key(kind)
	if key == "" {
		return Download{}, fn.NotFound("File")
	}
	d := Download{Key: key}
	if err := q.QueryRow(ctx, `SELECT content_type FROM uploads WHERE object_key = $1`, key).Scan(&d.ContentType); err != nil {
		return d, err
	}
	d.Filename = fmt.Sprintf("%s-%s.%s", s.ModuleCode, strings.ReplaceAll(kind, "_", "-"), extensions[d.ContentType])
	return d, nil
}

// ValidKind reports whether kind names a file kind.
func ValidKind(kind string) bool { _, ok := kinds[kind]; return ok }

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
