package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestStory is the project's spine: everything a vendor, an administrator and (later) a
// citizen do, through the gateway, against the real binaries. It grows with each capability.
func TestStory(t *testing.T) {
	api := &client{t: t, base: platform.GatewayURL}
	var secrets []string // every secret seen, to look for at rest and in logs afterwards

	// The seeded administrator signs in and must change the initial password first.
	if platform.AdminPassword == "" {
		t.Fatal("the stack did not seed an administrator")
	}
	r := api.must(201, "POST", "/api/v1/sessions", map[string]any{"login": platform.AdminLogin, "password": platform.AdminPassword})
	admin := api.as(str(r.Body, "token"))
	if r.Body["must_change_password"] != true {
		t.Fatalf("a seeded admin must change its password: %s", r.Raw)
	}
	admin.problem(403, "password-change-required", "GET", "/api/v1/admin/applications", nil)
	adminPassword := "admin-new-password-1"
	admin.must(204, "POST", "/api/v1/me/password", map[string]any{"current_password": platform.AdminPassword, "new_password": adminPassword})
	secrets = append(secrets, platform.AdminPassword, adminPassword, admin.token)

	// The administrator issues a vendor account (no self sign-up).
	r = admin.must(201, "POST", "/api/v1/admin/vendors", map[string]any{
		"company_name": "晋城市智慧城市科技有限公司", "contact_name": "刘川福", "contact_mobile": "18629579886", "login": "zhcs"})
	vendorID, initial := str(r.Body, "id"), str(r.Body, "initial_password")
	if vendorID == "" || len(initial) < 10 {
		t.Fatalf("vendor account: %s", r.Raw)
	}
	secrets = append(secrets, initial)

	// The vendor signs in, changes the initial password, and declares an application.
	r = api.must(201, "POST", "/api/v1/sessions", map[string]any{"login": "zhcs", "password": initial})
	vendor := api.as(str(r.Body, "token"))
	vendor.problem(403, "password-change-required", "GET", "/api/v1/apps", nil)
	vendorPassword := "vendor-new-password-1"
	vendor.must(204, "POST", "/api/v1/me/password", map[string]any{"current_password": initial, "new_password": vendorPassword})
	secrets = append(secrets, vendorPassword, vendor.token)

	declaration := map[string]any{
		"name": "晋城市12345市长热线—导通平台", "contact_name": "刘川福", "contact_mobile": "18629579886",
		"needs_user_info": true, "user_info_level": "identity",
		"description": "市长热线工单导通：市民在晋来办提交诉求，系统转派至承办单位并回访。",
	}
	r = vendor.must(201, "POST", "/api/v1/apps", declaration)
	appID := str(r.Body, "id")
	if r.Body["status"] != "draft" {
		t.Fatalf("a new application is a draft: %s", r.Raw)
	}
	// Bad input changes nothing.
	vendor.problem(400, "unknown-field", "POST", "/api/v1/apps", map[string]any{"name": "x", "colour": "red"})
	vendor.problem(422, "validation-failed", "PUT", "/api/v1/apps/"+appID, map[string]any{"name": "", "needs_user_info": false})
	vendor.must(200, "POST", "/api/v1/apps/"+appID+"/submit", nil)

	// The administrator sees it in the queue and rejects it with a reason.
	r = admin.must(200, "GET", "/api/v1/admin/applications", nil)
	if !containsID(r.Body, appID) {
		t.Fatalf("the queue lacks the submitted application: %s", r.Raw)
	}
	admin.problem(422, "validation-failed", "POST", "/api/v1/admin/applications/"+appID+"/reject", map[string]any{"reason": ""})
	reason := "请补充应用用途说明，并确认是否需要身份证号。"
	r = admin.must(200, "POST", "/api/v1/admin/applications/"+appID+"/reject", map[string]any{"reason": reason})
	if r.Body["status"] != "rejected" {
		t.Fatalf("reject: %s", r.Raw)
	}
	// A decided application cannot be decided again.
	admin.problem(409, "invalid-state", "POST", "/api/v1/admin/applications/"+appID+"/approve", nil)

	// The vendor sees the reason, edits, and resubmits; it is back in the queue.
	r = vendor.must(200, "GET", "/api/v1/apps/"+appID, nil)
	if r.Body["status"] != "rejected" || r.Body["reject_reason"] != reason {
		t.Fatalf("the vendor must see the rejection and its reason: %s", r.Raw)
	}
	vendor.problem(409, "invalid-state", "GET", "/api/v1/apps/"+appID+"/credentials", nil)
	declaration["description"] = "市长热线工单导通：市民在晋来办提交诉求，系统转派至承办单位办理并回访；需要身份证号用于实名受理。"
	vendor.must(200, "PUT", "/api/v1/apps/"+appID, declaration)
	vendor.must(200, "POST", "/api/v1/apps/"+appID+"/submit", nil)
	r = admin.must(200, "GET", "/api/v1/admin/applications", nil)
	if !containsID(r.Body, appID) {
		t.Fatalf("a resubmitted application goes back into the queue: %s", r.Raw)
	}

	// Another vendor can neither see nor touch it.
	r = admin.must(201, "POST", "/api/v1/admin/vendors", map[string]any{
		"company_name": "另一家公司", "contact_name": "王五", "contact_mobile": "13900139000", "login": "other", "initial_password": "other-initial-1"})
	r = api.must(201, "POST", "/api/v1/sessions", map[string]any{"login": "other", "password": "other-initial-1"})
	other := api.as(str(r.Body, "token"))
	other.must(204, "POST", "/api/v1/me/password", map[string]any{"current_password": "other-initial-1", "new_password": "other-new-password-1"})
	other.problem(404, "not-found", "GET", "/api/v1/apps/"+appID, nil)
	other.problem(404, "not-found", "PUT", "/api/v1/apps/"+appID, declaration)
	other.problem(403, "forbidden", "POST", "/api/v1/admin/applications/"+appID+"/approve", nil)
	if r = other.must(200, "GET", "/api/v1/apps", nil); r.Body["total"] != float64(0) {
		t.Fatalf("another vendor's list must be empty: %s", r.Raw)
	}

	// The administrator approves; the vendor sees appCode and appSecret.
	r = admin.must(200, "POST", "/api/v1/admin/applications/"+appID+"/approve", nil)
	appCode := str(r.Body, "app_code")
	if !regexp.MustCompile(`^[0-9a-f]{30}$`).MatchString(appCode) {
		t.Fatalf("appCode: %s", r.Raw)
	}
	vendor.problem(409, "invalid-state", "PUT", "/api/v1/apps/"+appID, declaration)
	r = vendor.must(200, "GET", "/api/v1/apps/"+appID+"/credentials", nil)
	creds := r.Body["secrets"].([]any)
	if str(r.Body, "app_code") != appCode || len(creds) != 1 {
		t.Fatalf("credentials: %s", r.Raw)
	}
	firstSecret := str(creds[0].(map[string]any), "secret")
	if !regexp.MustCompile(`^test_[0-9a-f]{32}$`).MatchString(firstSecret) {
		t.Fatalf("the secret issued at approval is a test secret: %q", firstSecret)
	}

	// The vendor rotates the secret; both work during the overlap.
	r = vendor.must(201, "POST", "/api/v1/apps/"+appID+"/secrets", map[string]any{"environment": "test", "overlap_hours": 24})
	newSecret := str(r.Body["new"].(map[string]any), "secret")
	if newSecret == firstSecret || len(r.Body["secrets"].([]any)) != 2 {
		t.Fatalf("rotation: %s", r.Raw)
	}
	secrets = append(secrets, firstSecret, newSecret)

	// The vendor lists a service under the approved application (seed §4): the platform
	// suggests the module_callback_code from the name's pinyin initials.
	r = vendor.must(200, "GET", "/api/v1/services/callback-code?name=%E5%85%AC%E7%A7%AF%E9%87%91%E6%8F%90%E5%8F%96", nil)
	if r.Body["module_callback_code"] != "GJJTQ" {
		t.Fatalf("pinyin suggestion: %s", r.Raw)
	}
	service := map[string]any{
		"application_id": appID, "name": "公积金提取", "channels": []string{"app", "wechat"}, "service_type": "transaction",
		"test_url": platform.SampleVendor + "/apps/" + appCode + "/", "tags": []string{"housing-fund"},
		"description": "住房公积金提取：市民在线申请提取公积金，上传材料，查看审批进度与到账情况。",
	}
	vendor.problem(422, "validation-failed", "POST", "/api/v1/services", merge(service, map[string]any{"test_url": "http://test.gjj.example.cn/"}))
	other.problem(422, "validation-failed", "POST", "/api/v1/services", service) // not its application
	r = vendor.must(201, "POST", "/api/v1/services", service)
	svcID := str(r.Body, "id")
	if r.Body["status"] != "testing" || r.Body["module_callback_code"] != "GJJTQ" || !strings.HasPrefix(str(r.Body, "module_code"), "MC") {
		t.Fatalf("new service: %s", r.Raw)
	}

	// Logo and two empty reports (allowed when applying, flagged "to be completed").
	upload(t, vendor, svcID, "logo", "image/png", pngBytes)
	upload(t, vendor, svcID, "functional_report", "application/pdf", nil)
	upload(t, vendor, svcID, "security_report", "application/pdf", nil)
	vendor.problem(422, "upload-rejected", "POST", completeAfterPut(t, vendor, svcID, "logo", "image/png", []byte("GIF89a not a png")), nil)
	other.problem(404, "not-found", "GET", "/api/v1/services/"+svcID+"/files/logo", nil)
	r = vendor.must(200, "POST", "/api/v1/services/"+svcID+"/apply", nil)
	if r.Body["status"] != "applied" {
		t.Fatalf("apply: %s", r.Raw)
	}

	// The administrator sees the request with machine pre-checks and approves the listing.
	r = admin.must(200, "GET", "/api/v1/admin/services", nil)
	if !containsID(r.Body, svcID) {
		t.Fatalf("the listing queue lacks the service: %s", r.Raw)
	}
	r = admin.must(200, "GET", "/api/v1/admin/services/"+svcID, nil)
	checks := map[string]bool{}
	for _, c := range r.Body["pre_checks"].([]any) {
		m := c.(map[string]any)
		checks[str(m, "code")] = m["ok"] == true
	}
	if !checks["reports-attached"] || checks["reports-complete"] || checks["test-url-https"] || !checks["application-approved"] { // the sample vendor is plain http on localhost
		t.Fatalf("pre-checks: %v", checks)
	}
	logoURL := str(r.Body["files"].(map[string]any)["logo"].(map[string]any), "url")
	if got := fetch(t, logoURL); !bytes.Equal(got, pngBytes) {
		t.Fatalf("the reviewer's logo link gives %d bytes", len(got))
	}
	admin.must(200, "POST", "/api/v1/admin/services/"+svcID+"/approve-listing", nil)

	// The administrator whitelists a test citizen (seed §5.1) by the mobile number.
	admin.problem(404, "not-found", "POST", "/api/v1/admin/applications/"+appID+"/test-citizens", map[string]any{"mobile": "13912345678"})
	admin.must(201, "POST", "/api/v1/admin/applications/"+appID+"/test-citizens", map[string]any{"mobile": "13800000002"})
	r = admin.must(200, "GET", "/api/v1/admin/applications/"+appID+"/test-citizens", nil)
	if !strings.Contains(string(r.Raw), "138****0002") {
		t.Fatalf("whitelist: %s", r.Raw)
	}

	// Single sign-on in testing: the vendor configures its backend with the test secret; a
	// whitelisted citizen opens the service from the super-app and the vendor's page learns
	// exactly the fields of the identity level; a citizen not on the whitelist is refused.
	registerWithSampleVendor(t, appCode, newSecret, "")
	tester := signInCitizen(t, "13800000002")
	seen := openService(t, tester, str(svc(t, vendor, svcID), "module_code"))
	if seen.Environment != "test" || seen.User == nil || seen.User.Mobile != "13800000002" || seen.User.IDNumber != "140502199001010011" ||
		seen.User.FaceImageURL != "" || len(seen.User.ID) != 32 || seen.ModuleCallbackCode != "GJJTQ" {
		t.Fatalf("the sample vendor saw %+v", seen)
	}
	stranger := signInCitizen(t, "13800000003")
	stranger.problem(403, "not-a-test-citizen", "GET", "/api/v1/sso/open?module_code="+str(svc(t, vendor, svcID), "module_code"), nil)
	if r = tester.must(200, "GET", "/api/v1/citizen/services", nil); !strings.Contains(string(r.Raw), "公积金提取") {
		t.Fatalf("the tester's catalog shows the service in testing: %s", r.Raw)
	}
	if r = stranger.must(200, "GET", "/api/v1/citizen/services", nil); strings.Contains(string(r.Raw), "公积金提取") {
		t.Fatalf("a stranger's catalog must not show a service in testing: %s", r.Raw)
	}
	checkTicketReplay(t, appCode, newSecret, str(svc(t, vendor, svcID), "module_code"), testerID(t, "13800000002"))

	// Going live needs real reports and a production address.
	vendor.problem(409, "not-ready-for-live", "POST", "/api/v1/services/"+svcID+"/request-live", nil)
	upload(t, vendor, svcID, "functional_report", "application/pdf", []byte("%PDF-1.4 functional test report"))
	upload(t, vendor, svcID, "security_report", "application/pdf", []byte("%PDF-1.4 security test report"))
	vendor.must(200, "PUT", "/api/v1/services/"+svcID+"/production-url", map[string]any{"production_url": platform.SampleVendor + "/apps/" + appCode + "/live"})
	vendor.must(200, "POST", "/api/v1/services/"+svcID+"/request-live", nil)
	r = admin.must(200, "POST", "/api/v1/admin/services/"+svcID+"/approve-live", nil)
	if r.Body["status"] != "live" {
		t.Fatalf("approve-live: %s", r.Raw)
	}
	// Going live issued the application's production secret (no test prefix).
	r = vendor.must(200, "GET", "/api/v1/apps/"+appID+"/credentials", nil)
	var production string
	for _, c := range r.Body["secrets"].([]any) {
		if m := c.(map[string]any); m["environment"] == "production" {
			production = str(m, "secret")
		}
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(production) {
		t.Fatalf("a production secret comes with the first live service: %s", r.Raw)
	}
	secrets = append(secrets, production)

	// Live: every citizen gets in, with production tickets exchanged by the production secret.
	registerWithSampleVendor(t, appCode, newSecret, production)
	seen = openService(t, stranger, str(svc(t, vendor, svcID), "module_code"))
	if seen.Environment != "production" || seen.User == nil || seen.User.Mobile != "13800000003" {
		t.Fatalf("after going live the sample vendor saw %+v", seen)
	}
	// The citizen's id is stable within the application and differs between citizens.
	testersID := openService(t, tester, str(svc(t, vendor, svcID), "module_code")).User.ID
	if again := openService(t, tester, str(svc(t, vendor, svcID), "module_code")).User.ID; again != testersID || testersID == seen.User.ID {
		t.Fatalf("pairwise ids: tester %q then %q, stranger %q", testersID, again, seen.User.ID)
	}
	// Capabilities (seed §7.5, §7.7): SMS with the city's form and templates, messages, to-dos.
	admin.problem(404, "not-found", "GET", "/api/v1/admin/capabilities/"+appID, nil)
	vendor.problem(409, "form-missing", "POST", "/api/v1/apps/"+appID+"/capabilities", smsApplication)
	form := []byte("%PDF-1.4 晋城市短信平台使用申请单")
	putAndComplete(t, vendor, "/api/v1/apps/"+appID+"/capabilities/sms/form", map[string]any{"content_type": "application/pdf", "size": len(form)}, form)
	vendor.must(200, "POST", "/api/v1/apps/"+appID+"/capabilities", smsApplication)
	vendor.must(200, "POST", "/api/v1/apps/"+appID+"/capabilities", map[string]any{"capability": "message"})
	vendor.must(200, "POST", "/api/v1/apps/"+appID+"/capabilities", map[string]any{"capability": "todo"})
	r = admin.must(200, "GET", "/api/v1/admin/capabilities", nil)
	grants := map[string]string{}
	for _, it := range r.Body["items"].([]any) {
		g := it.(map[string]any)
		if g["application_id"] == appID {
			grants[str(g, "capability")] = str(g, "id")
		}
	}
	if len(grants) != 3 {
		t.Fatalf("the capability queue: %s", r.Raw)
	}
	if r = admin.must(200, "GET", "/api/v1/admin/capabilities/"+grants["sms"], nil); !bytes.Equal(fetch(t, str(r.Body["form"].(map[string]any), "url")), form) {
		t.Fatal("the reviewer's link to the SMS form does not give the form")
	}
	for _, id := range grants {
		admin.must(200, "POST", "/api/v1/admin/capabilities/"+id+"/grant", nil)
	}
	// The sample vendor texts, messages and gives a to-do to the citizen who signed in.
	res := sampleVendorNotify(t, appCode, testersID)
	if len(res.Errors) > 0 || res.SMS == nil || res.SMS.Status != "sent" || res.Message == nil || res.Todo == nil {
		t.Fatalf("the sample vendor's capability calls: %+v", res)
	}
	if r = tester.must(200, "GET", "/api/v1/citizen/messages", nil); !strings.Contains(string(r.Raw), "办理进度通知") {
		t.Fatalf("the citizen's inbox: %s", r.Raw)
	}
	if r = tester.must(200, "GET", "/api/v1/citizen/todos", nil); !strings.Contains(string(r.Raw), "补充提取材料") {
		t.Fatalf("the citizen's to-dos: %s", r.Raw)
	}
	if r = api.must(200, "GET", "/api/v1/dev/sms?mobile=13800000002", nil); !strings.Contains(string(r.Raw), "SMS_100000001") {
		t.Fatalf("the development SMS inbox: %s", r.Raw)
	}
	if r = vendor.must(200, "GET", "/api/v1/apps/"+appID+"/usage", nil); !strings.Contains(string(r.Raw), `"capability":"sms"`) {
		t.Fatalf("usage: %s", r.Raw)
	}
	// A revoked grant stops sends at once.
	admin.must(200, "POST", "/api/v1/admin/capabilities/"+grants["sms"]+"/revoke", map[string]any{"reason": "短信内容不合规"})
	if res = sampleVendorNotify(t, appCode, testersID); res.SMS != nil || len(res.Errors) != 1 || !strings.Contains(res.Errors[0], "capability-not-granted") {
		t.Fatalf("after revocation: %+v", res)
	}

	admin.must(200, "POST", "/api/v1/admin/services/"+svcID+"/take-offline", map[string]any{"reason": "接口升级维护"})
	admin.must(200, "POST", "/api/v1/admin/services/"+svcID+"/bring-online", map[string]any{"reason": "维护完成"})
	r = vendor.must(200, "GET", "/api/v1/services?status=live", nil)
	if !containsID(r.Body, svcID) {
		t.Fatalf("the vendor's list shows the service live: %s", r.Raw)
	}

	// A disabled vendor's session stops working at once.
	admin.must(200, "POST", "/api/v1/admin/vendors/"+vendorID+"/disable", map[string]any{"reason": "合同到期"})
	vendor.problem(401, "unauthenticated", "GET", "/api/v1/apps", nil)
	api.problem(403, "account-disabled", "POST", "/api/v1/sessions", map[string]any{"login": "zhcs", "password": vendorPassword})
	admin.must(200, "POST", "/api/v1/admin/vendors/"+vendorID+"/enable", nil)
	api.must(201, "POST", "/api/v1/sessions", map[string]any{"login": "zhcs", "password": vendorPassword})

	// Nothing secret is stored or logged in the clear.
	dump, err := platform.Cluster.Dump("postgres")
	if err != nil {
		t.Fatal(err)
	}
	logs := readLogs(t)
	for _, s := range append(secrets, "18629579886", "13900139000") {
		if bytes.Contains(dump, []byte(s)) {
			t.Errorf("the database dump holds %q in the clear", s)
		}
		if bytes.Contains(logs, []byte(s)) {
			t.Errorf("the logs hold %q", s)
		}
	}
}

var smsApplication = map[string]any{
	"capability": "sms", "sms_sign_name": "晋来办",
	"templates": []map[string]any{{"code": "SMS_100000001", "name": "办理进度", "content": "您的${service}办理进度：${status}"}},
}

func readLogs(t *testing.T) []byte {
	t.Helper()
	var all []byte
	files, _ := filepath.Glob(filepath.Join(platform.LogDir, "*.log"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	if len(all) == 0 {
		t.Fatal("no function logs captured")
	}
	return all
}

func containsID(page map[string]any, id string) bool {
	items, _ := page["items"].([]any)
	for _, it := range items {
		if m, ok := it.(map[string]any); ok && m["id"] == id {
			return true
		}
	}
	return false
}
