package capabilities

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/objstore"
	"github.com/jinlaiban/openplatform/shared/services"
)

// The SMS application form: a scan or document of at most 10 MiB.
var formTypes = map[string]string{
	"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpeg", "application/msword": "doc",
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document": "zip",
}

const formMaxSize = 10 << 20

// FormUpload asks to upload the SMS application form.
type FormUpload struct {
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
}

// Valid checks type and size.
func (f *FormUpload) Valid() map[string]string {
	m := map[string]string{}
	if formTypes[f.ContentType] == "" {
		m["content_type"] = "must be application/pdf, image/png, image/jpeg, application/msword or a .docx document"
	}
	if f.Size <= 0 || f.Size > formMaxSize {
		m["size"] = fmt.Sprintf("must be 1 to %d bytes", formMaxSize)
	}
	return m
}

// StartFormUpload records an upload of the SMS form under a key the server chooses.
func StartFormUpload(ctx context.Context, tx db.Querier, appID string, f FormUpload, ttl time.Duration) (string, error) {
	if err := ensureRow(ctx, tx, appID, SMS); err != nil {
		return "", err
	}
	var key string
	err := tx.QueryRow(ctx, `UPDATE capability_grants SET upload_key = 'capabilities/' || application_id || '/sms-form/' || gen_random_uuid(),
		upload_type = $2, upload_size = $3, upload_expires = now() + $4::interval, updated_at = now()
		WHERE application_id = $1 AND capability = 'sms' AND status IN ('draft', 'rejected', 'revoked') RETURNING upload_key`,
		appID, f.ContentType, f.Size, ttl).Scan(&key)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fn.Errorf(http.StatusConflict, fn.CodeInvalidState, "The SMS grant is pending or granted; its form cannot change now.")
	}
	return key, err
}

// CompleteFormUpload checks the uploaded form and attaches it.
func CompleteFormUpload(ctx context.Context, tx db.Querier, store services.Inspector, appID string) (Grant, error) {
	var key, ctype, status string
	var size int64
	var expired bool
	err := tx.QueryRow(ctx, `SELECT coalesce(upload_key, ''), coalesce(upload_type, ''), coalesce(upload_size, 0), coalesce(upload_expires < now(), true), status
		FROM capability_grants WHERE application_id = $1 AND capability = 'sms' FOR UPDATE`, appID).Scan(&key, &ctype, &size, &expired, &status)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && key == "") {
		return Grant{}, fn.Errorf(http.StatusConflict, "upload-missing", "Start an upload of the form first.")
	}
	if err != nil {
		return Grant{}, err
	}
	// An upload started before applying must not replace the form under review or granted.
	if status == Pending || status == Granted {
		return Grant{}, fn.Errorf(http.StatusConflict, fn.CodeInvalidState, "The SMS grant is pending or granted; its form cannot change now.")
	}
	if expired {
		return Grant{}, fn.Errorf(http.StatusConflict, "upload-expired", "This upload expired; start a new one.")
	}
	got, err := store.Head(ctx, key)
	if errors.Is(err, objstore.ErrNotFound) {
		return Grant{}, fn.Errorf(http.StatusConflict, "upload-missing", "Nothing has been uploaded yet: PUT the file to the upload URL first.")
	}
	if err != nil {
		return Grant{}, err
	}
	head, err := store.ReadPrefix(ctx, key, 1024)
	if err != nil {
		return Grant{}, err
	}
	if got != size || services.Sniff(head) != formTypes[ctype] {
		_ = store.Delete(ctx, key)
		return Grant{}, fn.Errorf(http.StatusUnprocessableEntity, "upload-rejected", "The uploaded form is not the announced size and type; upload it again.")
	}
	if _, err := tx.Exec(ctx, `UPDATE capability_grants SET form_key = upload_key, form_type = upload_type, form_size = upload_size,
		upload_key = NULL, upload_type = NULL, upload_size = NULL, upload_expires = NULL, updated_at = now()
		WHERE application_id = $1 AND capability = 'sms'`, appID); err != nil {
		return Grant{}, err
	}
	return GrantOf(ctx, tx, appID, SMS, false)
}
