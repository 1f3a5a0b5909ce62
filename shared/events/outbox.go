// Package events defines the platform's CloudEvents and writes them to the transactional
// outbox: an event is a row committed with the change it reports, delivered afterwards.
package events

import (
	"context"

	"github.com/jinlaiban/openplatform/shared/db"
)

// Event types are versioned: a breaking change to an event's data gets a new type.
const (
	ApplicationApproved = "cn.jinlaiban.openplatform.application.approved.v1"
	ApplicationRejected = "cn.jinlaiban.openplatform.application.rejected.v1"
	ListingApproved     = "cn.jinlaiban.openplatform.service.listing.approved.v1"
	ListingRejected     = "cn.jinlaiban.openplatform.service.listing.rejected.v1"
	ServiceLive         = "cn.jinlaiban.openplatform.service.live.v1"
	LiveRejected        = "cn.jinlaiban.openplatform.service.live.rejected.v1"
	ServiceOffline      = "cn.jinlaiban.openplatform.service.offline.v1"
	CapabilityGranted   = "cn.jinlaiban.openplatform.capability.granted.v1"
	CapabilityRejected  = "cn.jinlaiban.openplatform.capability.rejected.v1"
	CapabilityRevoked   = "cn.jinlaiban.openplatform.capability.revoked.v1"
)

// Source names the function that emitted an event, as a CloudEvents source.
func Source(function string) string { return "/functions/" + function }

// Event is an outbox row to be.
type Event struct {
	Source  string
	Type    string
	Subject string // the resource the event is about, e.g. "applications/<id>"
	Data    any    // JSON-encoded as the CloudEvent's data
}

// Write adds e to the outbox in the caller's transaction and returns its id, which becomes
// the CloudEvent's id (deterministic: a redelivery carries the same id).
func Write(ctx context.Context, tx db.Querier, e Event) (string, error) {
	var id string
	err := tx.QueryRow(ctx, `INSERT INTO outbox (source, type, subject, data) VALUES ($1, $2, $3, $4) RETURNING id`,
		e.Source, e.Type, e.Subject, e.Data).Scan(&id)
	return id, err
}
