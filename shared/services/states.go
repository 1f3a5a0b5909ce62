package services

// The life of a service, in one place. A vendor fills a service in (testing), applies for
// listing with the two test reports (applied); an administrator approves the listing
// (approved: listed, still in the test environment) or rejects it back to testing. With a
// production address and both reports complete, the vendor asks to go live
// (live_requested); an administrator puts it live or sends it back to approved. A live
// service can be taken offline and brought back.
//
//	testing ──apply──▶ applied ──approve-listing──▶ approved ──request-live──▶ live_requested ──approve-live──▶ live ⇄ offline
//	   ▲                  │                            ▲                             │                       (take-offline,
//	   └──reject-listing──┘                            └─────────reject-live────────┘                        bring-online)
const (
	Testing       = "testing"
	Applied       = "applied"
	Approved      = "approved"
	LiveRequested = "live_requested"
	Live          = "live"
	Offline       = "offline"
)

// Statuses lists every status, in the order of a service's life.
var Statuses = []string{Testing, Applied, Approved, LiveRequested, Live, Offline}

// Transition is a named move between statuses, made by one kind of actor.
type Transition struct {
	Name  string
	From  string
	To    string
	Actor string // "vendor" or "admin"
}

// Transitions are the only moves there are.
var Transitions = map[string]Transition{
	"apply":           {"apply", Testing, Applied, "vendor"},
	"approve-listing": {"approve-listing", Applied, Approved, "admin"},
	"reject-listing":  {"reject-listing", Applied, Testing, "admin"},
	"request-live":    {"request-live", Approved, LiveRequested, "vendor"},
	"approve-live":    {"approve-live", LiveRequested, Live, "admin"},
	"reject-live":     {"reject-live", LiveRequested, Approved, "admin"},
	"take-offline":    {"take-offline", Live, Offline, "admin"},
	"bring-online":    {"bring-online", Offline, Live, "admin"},
}

// editable says which statuses allow which changes by the vendor: the declaration only
// while testing; the production address and the files also once listed, to complete them
// before going live.
func declarationEditable(status string) bool { return status == Testing }
func completionEditable(status string) bool  { return status == Testing || status == Approved }

// NextAction is what the vendor can do now, for the service list's action column.
func NextAction(s Service) string {
	switch s.Status {
	case Testing:
		if s.Reports.Functional.Attached && s.Reports.Security.Attached {
			return "apply"
		}
		return "attach-reports"
	case Approved:
		if s.ProductionURL != "" && s.Reports.Functional.Complete() && s.Reports.Security.Complete() {
			return "request-live"
		}
		return "complete-for-live"
	case Applied, LiveRequested:
		return "await-review"
	}
	return "none"
}

// ValidStatus reports whether s names a status (or is empty: any).
func ValidStatus(s string) bool {
	if s == "" {
		return true
	}
	for _, st := range Statuses {
		if st == s {
			return true
		}
	}
	return false
}
