package relay

import (
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
)

// Row is an outbox row on its way to the broker.
type Row struct {
	ID        string
	Source    string
	Type      string
	Subject   string
	Data      []byte // JSON
	CreatedAt time.Time
	Attempts  int
}

// CloudEvent is the row as a CloudEvents 1.0 event: the row's id (so a redelivery carries the
// same id and consumers can tell it is one), source, type and subject, time = when the change
// committed, and the row's JSON as data.
func (r Row) CloudEvent() (cloudevents.Event, error) {
	e := cloudevents.NewEvent(cloudevents.VersionV1)
	e.SetID(r.ID)
	e.SetSource(r.Source)
	e.SetType(r.Type)
	e.SetSubject(r.Subject)
	e.SetTime(r.CreatedAt.UTC())
	if err := e.SetData(cloudevents.ApplicationJSON, r.Data); err != nil {
		return e, err
	}
	return e, e.Validate()
}
