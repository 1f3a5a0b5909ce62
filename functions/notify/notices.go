package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/jinlaiban/openplatform/shared/events"
)

// notice is what a decision event tells its vendor.
type notice struct {
	VendorID string
	Title    string
	Body     string
	Link     string            // where the portal shows the resource
	SMS      map[string]string // the SMS template's parameters: name, decision, reason
}

// errPoison marks an event notify can never handle: answered 400, so the broker does not
// retry it and its dead-letter sink takes it.
var errPoison = errors.New("poison")

func poison(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errPoison}, args...)...)
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

var capabilityNames = map[string]string{"sms": "短信", "message": "消息推送", "todo": "待办"}

// noticeFor reads a decision event's data and words the vendor's notice in Chinese.
func noticeFor(ev event.Event) (notice, error) {
	if ev.DataContentType() != "" && ev.DataContentType() != event.ApplicationJSON {
		return notice{}, poison("data content type %q, want application/json", ev.DataContentType())
	}
	switch ev.Type() {
	case events.ApplicationApproved, events.ApplicationRejected:
		var d events.ApplicationDecision
		if err := decode(ev, &d); err != nil {
			return notice{}, err
		}
		if err := require(d.VendorID, d.ApplicationID, d.Name); err != nil {
			return notice{}, err
		}
		n := notice{VendorID: d.VendorID, Link: "/apps/" + d.ApplicationID}
		if ev.Type() == events.ApplicationApproved {
			n.Title = fmt.Sprintf("应用“%s”审核通过", d.Name)
			n.Body = fmt.Sprintf("您提交的应用“%s”已审核通过，appCode 为 %s。请登录开放平台查看应用凭据。", d.Name, d.AppCode)
			return n.sms(d.Name, "审核通过", ""), nil
		}
		if d.Reason == "" {
			return notice{}, poison("a rejection without a reason")
		}
		n.Title = fmt.Sprintf("应用“%s”被驳回", d.Name)
		n.Body = fmt.Sprintf("您提交的应用“%s”未通过审核。驳回原因：%s。请修改后重新提交。", d.Name, d.Reason)
		return n.sms(d.Name, "被驳回", d.Reason), nil

	case events.ListingApproved, events.ListingRejected, events.ServiceLive, events.LiveRejected, events.ServiceOffline:
		var d events.ServiceDecision
		if err := decode(ev, &d); err != nil {
			return notice{}, err
		}
		if err := require(d.VendorID, d.ServiceID, d.Name); err != nil {
			return notice{}, err
		}
		n := notice{VendorID: d.VendorID, Link: "/services/" + d.ServiceID}
		var title, body, decision string
		switch {
		case ev.Type() == events.ListingApproved:
			title, decision = "服务“%s”上架审核通过", "上架审核通过"
			body = "您的服务“%s”已通过上架审核，可以申请上线。"
		case ev.Type() == events.ServiceLive && d.Decision == "bring-online":
			title, decision = "服务“%s”已恢复上线", "已恢复上线"
			body = "您的服务“%s”已恢复上线。"
		case ev.Type() == events.ServiceLive:
			title, decision = "服务“%s”已上线", "上线审核通过"
			body = "您的服务“%s”已通过上线审核，现已在晋来办上线。"
		case ev.Type() == events.ListingRejected:
			title, decision = "服务“%s”上架申请被驳回", "上架申请被驳回"
			body = "您的服务“%s”未通过上架审核。"
		case ev.Type() == events.LiveRejected:
			title, decision = "服务“%s”上线申请被驳回", "上线申请被驳回"
			body = "您的服务“%s”未通过上线审核。"
		default: // ServiceOffline
			title, decision = "服务“%s”已下线", "已下线"
			body = "您的服务“%s”已被管理员下线。"
		}
		n.Title, n.Body = fmt.Sprintf(title, d.Name), fmt.Sprintf(body, d.Name)
		if needsReason(ev.Type()) && d.Reason == "" {
			return notice{}, poison("%s without a reason", ev.Type())
		}
		if d.Reason != "" {
			n.Body += fmt.Sprintf("原因：%s。", d.Reason)
		}
		return n.sms(d.Name, decision, d.Reason), nil

	case events.CapabilityGranted, events.CapabilityRejected, events.CapabilityRevoked:
		var d events.CapabilityDecision
		if err := decode(ev, &d); err != nil {
			return notice{}, err
		}
		if err := require(d.VendorID, d.ApplicationID, d.Name); err != nil {
			return notice{}, err
		}
		if d.GrantID != "" && !uuidRE.MatchString(d.GrantID) {
			return notice{}, poison("grant_id is not a UUID")
		}
		capName, ok := capabilityNames[d.Capability]
		if !ok {
			return notice{}, poison("unknown capability %q", d.Capability)
		}
		n := notice{VendorID: d.VendorID, Link: "/apps/" + d.ApplicationID + "/capabilities"}
		var decision string
		switch ev.Type() {
		case events.CapabilityGranted:
			decision = capName + "能力申请已通过"
			n.Body = fmt.Sprintf("您的应用“%s”的%s能力申请已通过，现在可以调用。", d.Name, capName)
		case events.CapabilityRejected:
			decision = capName + "能力申请被驳回"
			n.Body = fmt.Sprintf("您的应用“%s”的%s能力申请未通过。", d.Name, capName)
		default:
			decision = capName + "能力已被收回"
			n.Body = fmt.Sprintf("您的应用“%s”的%s能力已被管理员收回，调用将被拒绝。", d.Name, capName)
		}
		if needsReason(ev.Type()) && d.Reason == "" {
			return notice{}, poison("%s without a reason", ev.Type())
		}
		if d.Reason != "" {
			n.Body += fmt.Sprintf("原因：%s。", d.Reason)
		}
		n.Title = fmt.Sprintf("应用“%s”的%s", d.Name, decision)
		return n.sms(d.Name, decision, d.Reason), nil
	}
	return notice{}, poison("unknown event type %q", ev.Type())
}

func needsReason(t string) bool {
	switch t {
	case events.ListingRejected, events.LiveRejected, events.ServiceOffline, events.CapabilityRejected, events.CapabilityRevoked:
		return true
	}
	return false
}

func decode(ev event.Event, v any) error {
	if len(ev.Data()) == 0 {
		return poison("no data")
	}
	if err := json.Unmarshal(ev.Data(), v); err != nil {
		return poison("data does not match %s: %v", ev.Type(), err)
	}
	return nil
}

func require(vendorID, resourceID, name string) error {
	switch {
	case !uuidRE.MatchString(vendorID):
		return poison("vendor_id is not a UUID")
	case !uuidRE.MatchString(resourceID):
		return poison("the resource id is not a UUID")
	case name == "":
		return poison("no name")
	}
	return nil
}

// sms fills the SMS template's parameters. Providers limit a parameter's length (Alibaba
// Cloud: 35 characters), so long values are cut; an empty reason is sent as "无".
func (n notice) sms(name, decision, reason string) notice {
	if reason == "" {
		reason = "无"
	}
	n.SMS = map[string]string{"name": cut(name, 35), "decision": cut(decision, 35), "reason": cut(reason, 35)}
	return n
}

func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
