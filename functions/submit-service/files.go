package main

import (
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jinlaiban/openplatform/shared/auth"
	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/fn"
	"github.com/jinlaiban/openplatform/shared/objstore"
	"github.com/jinlaiban/openplatform/shared/services"
)

type startUploadResponse struct {
	UploadID string `json:"upload_id"`
	objstore.Upload
	CompleteURL string `json:"complete_url"`
}

// startUpload returns a presigned PUT for one file under a key the server chooses; the
// browser sends the bytes straight to object storage, then calls complete.
func (s *server) startUpload(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := s.ownedID(r, p)
	if err != nil {
		return err
	}
	req, err := fn.Decode[services.UploadRequest](r)
	if err != nil {
		return err
	}
	var up services.Upload
	err = db.Tx(r.Context(), s.pool, func(tx pgx.Tx) error {
		up, err = services.StartUpload(r.Context(), tx, p.AccountID, id, req)
		return err
	})
	if err != nil {
		return err
	}
	put, err := s.store.PresignPut(r.Context(), up.Key, req.ContentType, req.Size, services.UploadTTL)
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusCreated, startUploadResponse{UploadID: up.ID, Upload: put,
		CompleteURL: "/api/v1/services/" + id + "/uploads/" + up.ID + "/complete"})
}

// completeUpload checks the uploaded object (size, first bytes) and attaches it.
func (s *server) completeUpload(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := fn.UUIDParam(r, "id", "Service")
	if err != nil {
		return err
	}
	uploadID, err := fn.UUIDParam(r, "upload", "Upload")
	if err != nil {
		return err
	}
	var svc services.Service
	err = db.Tx(r.Context(), s.pool, func(tx pgx.Tx) error {
		svc, err = services.CompleteUpload(r.Context(), tx, s.store, p.AccountID, id, uploadID)
		return err
	})
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusOK, svc)
}

// download gives the owner a short-lived link to one of the service's files.
func (s *server) download(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id, err := fn.UUIDParam(r, "id", "Service")
	if err != nil {
		return err
	}
	kind := r.PathValue("kind")
	if !services.ValidKind(kind) {
		return fn.NotFound("File")
	}
	svc, err := services.GetOwned(r.Context(), s.pool, p.AccountID, id)
	if err != nil {
		return err
	}
	d, err := services.AttachedFile(r.Context(), s.pool, svc, kind)
	if err != nil {
		return err
	}
	url, err := s.store.PresignGet(r.Context(), d.Key, d.Filename, s.cfg.DownloadTTL)
	if err != nil {
		return err
	}
	return fn.JSON(w, http.StatusOK, map[string]any{"url": url, "filename": d.Filename,
		"expires_at": time.Now().Add(s.cfg.DownloadTTL).UTC().Truncate(time.Second)})
}
