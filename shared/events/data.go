package events

// The data of the decision events, as the reviewers' desk (functions/approve) writes it and
// the notifier (functions/notify) reads it. Fields are only ever added within a version; a
// breaking change gets a new type (…v2).

// ApplicationDecision is the data of ApplicationApproved and ApplicationRejected.
type ApplicationDecision struct {
	ApplicationID string `json:"application_id"`
	Name          string `json:"name"`
	VendorID      string `json:"vendor_id"`
	Decision      string `json:"decision"` // the application's new status: approved or rejected
	Reason        string `json:"reason,omitempty"`
	AppCode       string `json:"app_code,omitempty"`
	DecidedAt     string `json:"decided_at"`
}

// ServiceDecision is the data of ListingApproved, ListingRejected, ServiceLive, LiveRejected
// and ServiceOffline.
type ServiceDecision struct {
	ServiceID     string `json:"service_id"`
	Name          string `json:"name"`
	ModuleCode    string `json:"module_code"`
	ApplicationID string `json:"application_id"`
	VendorID      string `json:"vendor_id"`
	Decision      string `json:"decision"` // approve-listing, reject-listing, approve-live, reject-live, take-offline, bring-online
	Status        string `json:"status"`   // the service's new status
	Reason        string `json:"reason,omitempty"`
	DecidedAt     string `json:"decided_at"`
}

// CapabilityDecision is the data of CapabilityGranted, CapabilityRejected and
// CapabilityRevoked.
type CapabilityDecision struct {
	GrantID       string `json:"grant_id"`
	Capability    string `json:"capability"` // sms, message or todo
	ApplicationID string `json:"application_id"`
	Name          string `json:"name"` // the application's name
	VendorID      string `json:"vendor_id"`
	Decision      string `json:"decision"` // grant, reject or revoke
	Status        string `json:"status"`   // the grant's new status
	Reason        string `json:"reason,omitempty"`
	DecidedAt     string `json:"decided_at"`
}

// DecisionTypes are the event types of review decisions: each reaches the vendor concerned
// (functions/notify, through one Broker Trigger per type).
var DecisionTypes = []string{
	ApplicationApproved, ApplicationRejected,
	ListingApproved, ListingRejected, ServiceLive, LiveRejected, ServiceOffline,
	CapabilityGranted, CapabilityRejected, CapabilityRevoked,
}

// IsDecision reports whether t is one of DecisionTypes.
func IsDecision(t string) bool {
	for _, d := range DecisionTypes {
		if d == t {
			return true
		}
	}
	return false
}
