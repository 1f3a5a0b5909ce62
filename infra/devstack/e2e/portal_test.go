package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/jinlaiban/openplatform/infra/devstack/samplevendor"
	"github.com/jinlaiban/openplatform/shared/sdk"
	"github.com/jinlaiban/openplatform/shared/testenv"
)

// TestPortalInBrowser is the operations manual clicked through in real headless Chromium,
// against the same platform as the other end-to-end tests: an administrator issues a vendor
// account; the vendor changes the initial password and declares an application, which is
// rejected with a reason, edited, resubmitted and approved; the vendor views the appCode and
// appSecret, lists a service with its logo and (empty) reports uploaded from the browser
// straight to the object store, and applies; the administrator reads the pre-checks,
// approves the listing and whitelists a test citizen, who signs in to the super-app
// simulator, opens the service through the real single sign-on path and reads a message.
// Along the way it checks what a browser must never get wrong: the cookies' flags, CSRF,
// the Content-Security-Policy, and that no page holds an appSecret outside its explicit view.
//
// SCREENSHOTS=1 writes PNGs of the key pages to infra/devstack/e2e/screenshots/.
func TestPortalInBrowser(t *testing.T) {
	b := startBrowser(t)
	gw := platform.GatewayURL
	pool, sealer := direct(t)
	adminP := testenv.SignIn(t, pool, sealer, "admin", "portal-admin")

	admin := b.tab(t, "admin")
	vendor := b.tab(t, "vendor")
	citizen := b.tab(t, "citizen")

	// The portal home: the sign-in entry top right, the contact box.
	vendor.open("/")
	vendor.waitVisible("#sign-in-entry")
	vendor.click("#contact-toggle")
	vendor.waitVisible("#contact-panel")
	vendor.shot("01-portal-home")

	// An administrator signs in and issues a vendor account; the initial password is shown once.
	admin.signIn(adminP.Login, adminP.Password)
	admin.waitPath("/console/review/apps")
	admin.open("/console/vendors")
	admin.click("#issue-vendor") // empty: the client's checks answer
	admin.waitText(`[data-error-for="company_name"]`, "必填")
	admin.fill("#f-company_name", "晋城市不动产登记信息科技有限公司")
	admin.fill("#f-login", "bdc-vendor")
	admin.fill("#f-contact_name", "李明")
	admin.fill("#f-contact_mobile", "13912340001")
	admin.click("#issue-vendor")
	initial := admin.text("#initial-password")
	if len(initial) < 10 {
		t.Fatalf("initial password %q", initial)
	}
	admin.shot("02-admin-vendor-issued")
	admin.click(`dialog [data-action="close"]`)
	admin.waitGone("dialog")
	admin.waitText("table.data", "bdc-vendor")

	// The vendor signs in and must change the initial password first.
	vendor.signIn("bdc-vendor", initial)
	vendor.waitPath("/console/password")
	vendor.shot("03-vendor-forced-password")
	vendorPassword := "bdc-vendor-password-1"
	vendor.fill("#f-current_password", initial)
	vendor.fill("#f-new_password", vendorPassword)
	vendor.fill("#f-confirm", "something else")
	vendor.click("#change-password")
	vendor.waitText(`[data-error-for="confirm"]`, "不一致")
	vendor.fill("#f-confirm", vendorPassword)
	vendor.click("#change-password")
	vendor.waitPath("/console/apps")
	checkCookies(t, vendor)
	checkCSRF(t, vendor)

	// The vendor declares an application (the client checks every field first) and submits it.
	vendor.click("#new-app")
	vendor.waitPath("/console/apps/new")
	vendor.click("#save-submit-app")
	for _, f := range []string{"name", "contact_name", "contact_mobile", "description", "user_info_level"} {
		vendor.waitText(fmt.Sprintf(`[data-error-for="%s"]`, f), "")
	}
	appName := "晋城市不动产登记服务平台"
	vendor.fill("#f-name", appName)
	vendor.fill("#f-contact_name", "李明")
	vendor.fill("#f-contact_mobile", "1391234")
	vendor.fill("#f-user_info_level", "basic")
	vendor.fill("#f-description", "不动产登记信息查询：市民在晋来办查询名下不动产登记信息与办理进度。")
	vendor.click("#save-submit-app")
	vendor.waitText(`[data-error-for="contact_mobile"]`, "11 位手机号")
	vendor.fill("#f-contact_mobile", "13912340001")
	vendor.shot("04-vendor-app-form")
	vendor.click("#save-submit-app")
	appID := vendor.waitPathMatch(`^/console/apps/([0-9a-f-]{36})$`)
	vendor.waitText(".page-head .tag", "审核中")

	// The administrator rejects it with a reason (the dialog insists on one).
	admin.open("/console/review/apps")
	admin.click(fmt.Sprintf(`a[data-app="%s"]`, appID))
	admin.waitPath("/console/review/apps/" + appID)
	admin.shot("05-admin-app-review")
	admin.click(`[data-decision="reject"]`)
	admin.click(`dialog [data-action="confirm"]`)
	admin.waitText(`dialog [data-error-for="reason"]`, "必填")
	reason := "请在应用说明中写明需要的用户信息及用途。"
	admin.fill("#f-reason", reason)
	admin.click(`dialog [data-action="confirm"]`)
	admin.waitGone("dialog")
	admin.waitText(".page-head .tag", "审核未通过")

	// The vendor sees the reason, edits and resubmits.
	vendor.open("/console/apps/" + appID)
	vendor.waitText("#reject-reason", reason)
	vendor.shot("06-vendor-app-rejected")
	vendor.click("#edit-app")
	vendor.waitPath("/console/apps/" + appID + "/edit")
	vendor.fill("#f-description", "不动产登记信息查询：市民在晋来办查询名下不动产登记信息与办理进度；需要手机号用于身份核验。")
	vendor.click("#save-submit-app")
	vendor.waitPath("/console/apps/" + appID)
	vendor.waitText(".page-head .tag", "审核中")

	// The administrator approves; the vendor views the appCode and appSecret, explicitly.
	admin.open("/console/review/apps/" + appID)
	admin.click(`[data-decision="approve"]`)
	admin.click(`dialog [data-action="confirm"]`)
	admin.waitGone("dialog")
	admin.waitText(".page-head .tag", "审核通过")
	vendor.open("/console/apps/" + appID)
	appCode := vendor.text("#app-code")
	if !regexp.MustCompile(`^[0-9a-f]{30}$`).MatchString(appCode) {
		t.Fatalf("appCode on the page: %q", appCode)
	}
	vendor.checkNoSecret()
	vendor.click("#view-credentials")
	testSecret := vendor.text(`dialog [data-secret-env="test"] code.secret`)
	if !regexp.MustCompile(`^test_[0-9a-f]{32}$`).MatchString(testSecret) {
		t.Fatalf("the test appSecret in the dialog: %q", testSecret)
	}
	b.addSecret(testSecret)
	if !strings.Contains(vendor.html(), testSecret) {
		t.Fatal("the explicit view shows the secret")
	}
	vendor.shot("07-vendor-credentials")
	vendor.click(`dialog [data-action="close"]`)
	vendor.waitGone("dialog")
	vendor.checkNoSecret()

	// The vendor lists a service: the pinyin suggestion, the logo and both (empty) reports
	// uploaded from the browser with presigned PUTs, then applies.
	serviceName := "不动产登记查询"
	vendor.open("/console/services/new?application_id=" + appID)
	vendor.fill("#f-name", serviceName)
	vendor.waitText("#code-suggestion", "BDCDJCX")
	vendor.click("#use-suggestion")
	vendor.click(`input[name="service_type"][value="query"]`)
	vendor.fill("#f-test_url", platform.SampleVendor+"/apps/"+appCode+"/")
	vendor.click(`input[name="tags"][value="government"]`)
	vendor.fill("#f-description", "不动产登记信息查询：查询名下房屋、土地的登记信息与办理进度，支持打印查询结果。")
	vendor.shot("08-vendor-service-form")
	vendor.click("#save-service")
	serviceID := vendor.waitPathMatch(`^/console/services/([0-9a-f-]{36})$`)
	moduleCode := vendor.text("#module-code")
	dir := t.TempDir()
	logo := filepath.Join(dir, "logo.png")
	writePNG(t, logo)
	empty := filepath.Join(dir, "report.pdf")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	vendor.upload("logo", logo)
	vendor.waitVisible(`#logo-preview[data-attached="true"]`)
	vendor.upload("functional_report", empty)
	vendor.waitVisible(`[data-to-be-completed="functional_report"]`)
	vendor.upload("security_report", empty)
	vendor.waitVisible(`[data-to-be-completed="security_report"]`)
	vendor.shot("09-vendor-service-files")
	vendor.click("#apply-service")
	vendor.click(`dialog [data-action="confirm"]`)
	vendor.waitText(".page-head .tag", "上架审核中")

	// A second service with the same module_callback_code: the server's problem is shown next
	// to that field.
	vendor.open("/console/services/new?application_id=" + appID)
	vendor.fill("#f-name", "不动产登记查询二")
	vendor.fill("#f-module_callback_code", "BDCDJCX")
	vendor.fill("#f-test_url", platform.SampleVendor+"/apps/"+appCode+"/two")
	vendor.click(`input[name="tags"][value="government"]`)
	vendor.fill("#f-description", "同一应用下的第二个服务，用来确认回调代码不能重复使用。")
	vendor.click("#save-service")
	vendor.waitText(`[data-error-for="module_callback_code"]`, "already used")
	vendor.open("/console/services?application_id=" + appID)
	vendor.waitText("table.data", serviceName)
	vendor.shot("10-vendor-services")

	// The administrator reads the machine pre-checks, approves the listing, and whitelists a
	// test citizen.
	admin.open("/console/review/services")
	admin.click(fmt.Sprintf(`a[data-service="%s"]`, serviceID))
	admin.waitVisible(`[data-check="reports-attached"][data-ok="true"]`)
	admin.waitVisible(`[data-check="reports-complete"][data-ok="false"]`)
	admin.waitVisible(`[data-check="page-title-matches"][data-ok="false"]`)
	admin.waitVisible("#review-logo")
	admin.shot("11-admin-service-prechecks")
	admin.click(`[data-decision="approve-listing"]`)
	admin.click(`dialog [data-action="confirm"]`)
	admin.waitGone("dialog")
	admin.waitText(".page-head .tag", "已上架")
	admin.open("/console/test-citizens?app=" + appID)
	admin.fill("#f-mobile", "13800000001")
	admin.click("#add-tester")
	admin.waitText("table.data", "138****0001")
	admin.shot("12-admin-test-citizens")

	// The vendor asks for the message and to-do capabilities; the administrator grants them.
	vendor.open("/console/capabilities?app=" + appID)
	for _, c := range []string{"message", "todo"} {
		vendor.click(fmt.Sprintf(`[data-apply="%s"]`, c))
		vendor.click(`dialog [data-action="confirm"]`)
		vendor.waitText(fmt.Sprintf(`[data-capability="%s"] .tag`, c), "审核中")
	}
	for _, c := range []string{"message", "todo"} {
		admin.open("/console/review/capabilities")
		admin.click(fmt.Sprintf(`a[data-capability="%s"][data-app="%s"]`, c, appID))
		admin.click(`[data-decision="grant"]`)
		admin.click(`dialog [data-action="confirm"]`)
		admin.waitText(".page-head .tag", "已授权")
	}

	// The citizen signs in to the simulator with the code from the development SMS inbox and
	// opens the service through single sign-on. The sample vendor's page reports its title by
	// the JS-SDK: first one that differs from the service name (the shell warns), then the
	// right one.
	registerTitled(t, appCode, testSecret, "")
	citizen.open("/simulator/")
	citizen.fill("#f-mobile", "13800000001")
	citizen.click("#sim-send-code")
	citizen.waitText("#sim-code-note", "已发送")
	citizen.click("#sim-read-code")
	citizen.waitJS(`/^\d{6}$/.test(document.querySelector('#f-code').value)`)
	citizen.shot("13-simulator-sign-in")
	citizen.click("#sim-sign-in")
	citizen.click(fmt.Sprintf(`button[data-module="%s"]`, moduleCode))
	citizen.waitText("#sim-title-warning", samplevendor.DefaultTitle)
	citizen.waitFrameText("#service-frame", "dl", "13800000001")
	citizen.shot("14-simulator-title-warning")
	registerTitled(t, appCode, testSecret, serviceName)
	citizen.click("#sim-back")
	citizen.click(fmt.Sprintf(`button[data-module="%s"]`, moduleCode))
	citizen.waitText(`#sim-log [data-log="title-ok"]`, serviceName)
	citizen.waitJS(`document.querySelector('#sim-title-warning').hidden && document.querySelector('#sim-title').textContent === ` + jsString(serviceName))
	frameText := citizen.waitFrameText("#service-frame", "dl", "13800000001")
	citizen.shot("15-simulator-service")
	m := regexp.MustCompile(`用户 id\s*([0-9a-f]{32})`).FindStringSubmatch(frameText)
	if m == nil {
		t.Fatalf("the sample vendor's page shows no user id: %q", frameText)
	}
	pairwise := m[1]

	// The vendor's backend sends a message and a to-do; the citizen reads them in the shell.
	ctx := context.Background()
	c := sdk.New(gw, appCode, testSecret, "")
	if _, err := c.SendMessage(ctx, "portal-msg-1", sdk.Message{CitizenID: pairwise, Title: "不动产登记办理进度", Body: "您的不动产登记申请已受理，预计 5 个工作日内办结。"}); err != nil {
		t.Fatal(err)
	}
	due := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	if _, err := c.CreateTodo(ctx, sdk.Todo{CitizenID: pairwise, ExternalID: "portal-todo-1", Title: "补充登记材料", Description: "请上传身份证复印件", DueAt: &due}); err != nil {
		t.Fatal(err)
	}
	citizen.click("#sim-back")
	citizen.click(`#tabbar [data-tab="messages"]`)
	citizen.waitText("#sim-messages", "不动产登记办理进度")
	citizen.shot("16-simulator-messages")
	citizen.click(`#tabbar [data-tab="todos"]`)
	citizen.waitText("#sim-todos", "补充登记材料")

	// The reviewer now sees the title the page reported; the vendor sees the usage chart.
	admin.open("/console/review/services/" + serviceID)
	admin.waitVisible(`[data-check="page-title-matches"][data-ok="true"]`)
	vendor.open("/console/capabilities?app=" + appID)
	vendor.waitVisible(`#usage-chart rect[data-capability="message"][data-count="1"]`)
	vendor.shot("17-vendor-capabilities")
	vendor.open("/console/guide?app=" + appID)
	vendor.waitText("#guide-app-code", appCode)
	vendor.waitText("#guide-sign", "APP_CODE="+appCode)
	vendor.checkNoSecret()

	// The audit log has every view of the credentials.
	admin.open("/console/audit")
	admin.fill("#f-action", "credentials.view")
	admin.click("#audit-search")
	admin.waitText("#audit-results", appID)
	admin.shot("18-admin-audit")

	// Notifications come from another function: the menu shows them exactly when its API
	// answers (GET /api/v1/notifications is 401 without a session when it is routed).
	resp, err := http.Get(gw + "/api/v1/notifications")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	vendor.open("/console/apps")
	hasMenu := vendor.eval(`!!document.querySelector('a[data-menu="notifications"]')`) == "true"
	if hasMenu != (resp.StatusCode == http.StatusUnauthorized) {
		t.Errorf("notifications menu shown %v, but the API answers %d", hasMenu, resp.StatusCode)
	}
	if hasMenu {
		vendor.open("/console/notifications")
		vendor.waitVisible(".page-head h1")
		vendor.open("/console/webhooks")
		vendor.waitVisible("#webhook-form")
	}

	// English, and a tablet's width.
	vendor.open("/console/services")
	vendor.click(`.lang-switch [data-lang="en"]`)
	vendor.waitText(`a[data-menu="services"]`, "My services")
	vendor.shot("19-vendor-services-en")
	vendor.click(`.lang-switch [data-lang="zh-CN"]`)
	vendor.waitText(`a[data-menu="services"]`, "我的服务")
	vendor.viewport(820, 1180)
	vendor.open("/console/services/" + serviceID)
	vendor.waitVisible("#menu-toggle")
	vendor.shot("20-vendor-service-tablet")

	// The pages' headers, and nothing the browsers saw went wrong.
	checkHeaders(t, gw)
	b.finish(t)
}

// --- the browser ------------------------------------------------------------------------

type browser struct {
	exe      string
	shots    string
	mu       sync.Mutex
	problems []string
	secrets  []string
}

// chromium finds the browser: CHROMIUM, or Debian's chromium (make browser-tools installs
// it). Without one the test is skipped, except in CI, where it must run.
func chromium(t *testing.T) string {
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no Chromium: run make browser-tools (apt-get install chromium)")
	}
	t.Skip("no Chromium (make browser-tools installs Debian's chromium)")
	return ""
}

func startBrowser(t *testing.T) *browser {
	t.Helper()
	b := &browser{exe: chromium(t)}
	if os.Getenv("SCREENSHOTS") == "1" {
		b.shots = "screenshots"
		if err := os.MkdirAll(b.shots, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func (b *browser) addSecret(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.secrets = append(b.secrets, s)
}

func (b *browser) problem(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.problems = append(b.problems, fmt.Sprintf(format, args...))
}

func (b *browser) finish(t *testing.T) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.problems {
		t.Error(p)
	}
}

// tab is one person's browser: its own browser context (cookies), one tab.
type tab struct {
	t    *testing.T
	b    *browser
	name string
	ctx  context.Context
}

// tab starts one person's browser: a Chromium of its own (its own profile and cookies)
// with one tab.
func (b *browser) tab(t *testing.T, name string) *tab {
	// A fresh profile, removed once the browser has gone (not with t.TempDir, whose removal
	// may run while Chromium's last writes are still landing).
	profile, err := os.MkdirTemp("", "jlb-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(b.exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(profile), chromedp.WindowSize(1366, 900),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "zh-CN"),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc, chromedp.WithErrorf(func(format string, args ...any) {
		if msg := fmt.Sprintf(format, args...); !strings.Contains(msg, "unhandled") { // events newer than this chromedp
			t.Logf("%s: chromedp: %s", name, msg)
		}
	}))
	t.Cleanup(func() {
		cancel()
		cancelAlloc() // waits for the browser to exit
		// Chromium's helper processes may write a last file after it exited: poll with a
		// deadline until the profile is gone.
		for deadline := time.Now().Add(5 * time.Second); os.RemoveAll(profile) != nil && time.Now().Before(deadline); {
			time.Sleep(50 * time.Millisecond)
		}
	})
	// The first Run starts the browser, which lives as long as the context it ran with: this
	// one, not a step's deadline.
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("starting Chromium for %s: %v", name, err)
	}
	chromedp.ListenTarget(ctx, func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			b.problem("%s: uncaught exception in the page: %s", name, e.ExceptionDetails.Error())
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.APITypeError {
				var parts []string
				for _, a := range e.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				msg := strings.Join(parts, " ")
				// A refused request shows as a console error too; the API's own refusals are
				// part of the story (e.g. the duplicate callback code), not a fault.
				if !strings.Contains(msg, "status of 4") {
					b.problem("%s: console error: %s", name, msg)
				}
			}
		}
	})
	tb := &tab{t: t, b: b, name: name, ctx: ctx}
	tb.run(network.Enable(), runtime.Enable())
	return tb
}

const step = 20 * time.Second // the deadline of one step: a page, a click's effect

func (tb *tab) run(actions ...chromedp.Action) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, step)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		tb.t.Fatalf("%s: %v (page %s; screenshot %s)", tb.name, err, tb.location(), tb.failureShot())
	}
}

// failureShot keeps what the page looked like when a step failed.
func (tb *tab) failureShot() string {
	ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
	defer cancel()
	var buf []byte
	if chromedp.Run(ctx, chromedp.FullScreenshot(&buf, 100)) != nil {
		return "none"
	}
	path := filepath.Join(os.TempDir(), "jlb-portal-failure-"+tb.name+".png")
	if os.WriteFile(path, buf, 0o644) != nil {
		return "none"
	}
	return path
}

func (tb *tab) location() string {
	ctx, cancel := context.WithTimeout(tb.ctx, 2*time.Second)
	defer cancel()
	var loc string
	_ = chromedp.Run(ctx, chromedp.Evaluate(`location.pathname + location.search`, &loc))
	return loc
}

// open loads a page and waits until it has drawn: the console marks <main> with the path it
// drew; other pages mark <body> ready.
func (tb *tab) open(path string) {
	tb.t.Helper()
	tb.run(chromedp.Navigate(platform.GatewayURL + path))
	switch {
	case strings.HasPrefix(path, "/console"):
		tb.waitJS(`document.querySelector('#main') && document.querySelector('#main').dataset.ready === location.pathname`)
	case strings.HasPrefix(path, "/simulator"):
		tb.waitJS(`document.body.dataset.ready === 'true'`)
	default:
		tb.waitJS(`document.readyState === 'complete'`)
	}
	tb.checkPage()
}

// waitJS polls a condition until it holds or the step's deadline passes.
func (tb *tab) waitJS(cond string) {
	tb.t.Helper()
	var ok bool
	tb.run(chromedp.Poll(cond, &ok, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(step-time.Second)))
}

func (tb *tab) eval(js string) string {
	tb.t.Helper()
	var out any
	tb.run(chromedp.Evaluate(js, &out))
	return fmt.Sprint(out)
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func (tb *tab) waitVisible(sel string) {
	tb.t.Helper()
	tb.run(chromedp.WaitVisible(sel, chromedp.ByQuery))
}

func (tb *tab) waitGone(sel string) {
	tb.t.Helper()
	tb.waitJS(`!document.querySelector(` + jsString(sel) + `)`)
}

// waitText waits until the element exists and its text contains want ("" : any text).
func (tb *tab) waitText(sel, want string) {
	tb.t.Helper()
	q := `document.querySelector(` + jsString(sel) + `)`
	tb.waitJS(q + ` && ` + q + `.textContent.trim() !== '' && ` + q + `.textContent.includes(` + jsString(want) + `)`)
}

func (tb *tab) text(sel string) string {
	tb.t.Helper()
	tb.waitText(sel, "")
	var s string
	tb.run(chromedp.TextContent(sel, &s, chromedp.ByQuery))
	return strings.TrimSpace(s)
}

func (tb *tab) html() string {
	tb.t.Helper()
	var s string
	tb.run(chromedp.OuterHTML("html", &s, chromedp.ByQuery))
	return s
}

func (tb *tab) click(sel string) {
	tb.t.Helper()
	tb.run(chromedp.WaitVisible(sel, chromedp.ByQuery), chromedp.WaitEnabled(sel, chromedp.ByQuery), chromedp.Click(sel, chromedp.ByQuery))
}

// fill sets a field's value as typing would (input and change events); a select gets the
// option of that value.
func (tb *tab) fill(sel, value string) {
	tb.t.Helper()
	tb.waitVisible(sel)
	tb.run(chromedp.Evaluate(`(() => { const el = document.querySelector(`+jsString(sel)+`); el.focus(); el.value = `+jsString(value)+`;
		el.dispatchEvent(new Event('input', {bubbles: true})); el.dispatchEvent(new Event('change', {bubbles: true})); })()`, nil))
}

func (tb *tab) waitPath(path string) {
	tb.t.Helper()
	tb.waitJS(`location.pathname === ` + jsString(path) + ` && document.querySelector('#main').dataset.ready === location.pathname`)
	tb.checkPage()
}

// waitPathMatch waits for the console to draw a path matching re; it returns group 1.
func (tb *tab) waitPathMatch(re string) string {
	tb.t.Helper()
	tb.waitJS(`new RegExp(` + jsString(re) + `).test(location.pathname) && document.querySelector('#main').dataset.ready === location.pathname`)
	tb.checkPage()
	return regexp.MustCompile(re).FindStringSubmatch(tb.location())[1]
}

func (tb *tab) signIn(login, password string) {
	tb.t.Helper()
	tb.open("/console/login")
	tb.fill("#f-login", login)
	tb.fill("#f-password", password)
	tb.click("#sign-in")
}

// upload picks a file for one of the service's uploaders and sends it; the page reloads
// with the file attached.
func (tb *tab) upload(kind, path string) {
	tb.t.Helper()
	tb.run(chromedp.SetUploadFiles("#f-"+kind, []string{path}, chromedp.ByQuery))
	tb.eval(`document.querySelector('#main').dataset.ready = 'uploading'`)
	tb.click(`[data-upload="` + kind + `"]`)
	tb.waitJS(`document.querySelector('#main').dataset.ready === location.pathname`)
}

// waitFrameText waits until the element sel inside the iframe holds want, and returns its
// text. The service's page is on another origin (the sample vendor), so it is read through
// the DevTools protocol, not the page's scripts.
func (tb *tab) waitFrameText(frameSel, sel, want string) string {
	tb.t.Helper()
	deadline := time.Now().Add(step)
	var last string
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(tb.ctx, 3*time.Second)
		var frames []*cdp.Node
		err := chromedp.Run(ctx, chromedp.Nodes(frameSel, &frames, chromedp.ByQuery, chromedp.AtLeast(1)))
		if err == nil && len(frames) > 0 {
			var text string
			err = chromedp.Run(ctx, chromedp.TextContent(sel, &text, chromedp.ByQuery, chromedp.FromNode(frames[0]), chromedp.AtLeast(1)))
			if err == nil {
				last = text
				if strings.Contains(text, want) {
					cancel()
					return text
				}
			}
		}
		cancel()
		tb.waitJS(`true`) // yields a polling round trip before the next look
	}
	tb.t.Fatalf("%s: the service frame's %s never showed %q (last %q)", tb.name, sel, want, last)
	return ""
}

func (tb *tab) viewport(w, h int64) {
	tb.t.Helper()
	tb.run(emulation.SetDeviceMetricsOverride(w, h, 1, w < 900))
}

// checkPage: every page drawn has all its texts in the dictionary and no appSecret seen so
// far (the explicit view is a dialog, checked apart).
func (tb *tab) checkPage() {
	tb.t.Helper()
	if missing := tb.eval(`document.documentElement.dataset.i18nMissing || ''`); missing != "" {
		tb.b.problem("%s: %s uses texts with no dictionary entry: %s", tb.name, tb.location(), missing)
	}
	tb.checkNoSecret()
}

func (tb *tab) checkNoSecret() {
	tb.t.Helper()
	html := tb.html()
	tb.b.mu.Lock()
	defer tb.b.mu.Unlock()
	for _, s := range tb.b.secrets {
		if strings.Contains(html, s) {
			tb.b.problems = append(tb.b.problems, fmt.Sprintf("%s: %s holds an appSecret outside its explicit view", tb.name, tb.location()))
		}
	}
}

func (tb *tab) shot(name string) {
	tb.t.Helper()
	if tb.b.shots == "" {
		return
	}
	var buf []byte
	if tb.eval(`!!document.querySelector('dialog[open]')`) == "true" {
		tb.run(chromedp.CaptureScreenshot(&buf)) // the viewport, which the dialog's backdrop covers
	} else {
		tb.run(chromedp.FullScreenshot(&buf, 100))
	}
	if err := os.WriteFile(filepath.Join(tb.b.shots, name+".png"), buf, 0o644); err != nil {
		tb.t.Fatal(err)
	}
}

// --- the security checks ----------------------------------------------------------------

// checkCookies: the session cookie is HttpOnly, Secure and SameSite; the CSRF cookie is
// readable (the page echoes it) but Strict.
func checkCookies(t *testing.T, tb *tab) {
	t.Helper()
	var cookies []*network.Cookie
	tb.run(chromedp.ActionFunc(func(ctx context.Context) error {
		var err error
		cookies, err = network.GetCookies().WithURLs([]string{platform.GatewayURL + "/"}).Do(ctx)
		return err
	}))
	seen := map[string]*network.Cookie{}
	for _, c := range cookies {
		seen[c.Name] = c
	}
	s, csrf := seen["jlb_session"], seen["jlb_csrf"]
	if s == nil || !s.HTTPOnly || !s.Secure || s.SameSite != network.CookieSameSiteLax {
		t.Errorf("the session cookie must be HttpOnly, Secure, SameSite=Lax: %+v", s)
	}
	if csrf == nil || csrf.HTTPOnly || !csrf.Secure || csrf.SameSite != network.CookieSameSiteStrict {
		t.Errorf("the CSRF cookie must be readable, Secure, SameSite=Strict: %+v", csrf)
	}
	if v := tb.eval(`document.cookie.includes('jlb_session')`); v != "false" {
		t.Error("the page's script can read the session cookie")
	}
}

// checkCSRF: a write with the session cookie but without the X-CSRF-Token header fails.
func checkCSRF(t *testing.T, tb *tab) {
	t.Helper()
	var out string
	tb.run(chromedp.Evaluate(`fetch('/api/v1/apps', {method: 'POST', credentials: 'same-origin', headers: {'Content-Type': 'application/json'},
		body: JSON.stringify({name: 'x'})}).then(async (r) => r.status + ' ' + (await r.json()).code)`, &out,
		func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
	if out != "403 csrf-token-invalid" {
		t.Errorf("a write without the CSRF header: %q", out)
	}
}

// checkHeaders: every page answers with a strict Content-Security-Policy and the other
// security headers.
func checkHeaders(t *testing.T, gw string) {
	t.Helper()
	for _, path := range []string{"/", "/console/", "/console/apps", "/simulator/"} {
		resp, err := http.Get(gw + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'", "frame-ancestors 'none'",
			"connect-src 'self' " + platform.S3.Endpoint} {
			if !strings.Contains(csp, want+";") {
				t.Errorf("GET %s: the CSP lacks %q: %s", path, want, csp)
			}
		}
		if strings.Contains(csp, "unsafe-") {
			t.Errorf("GET %s: the CSP allows unsafe sources: %s", path, csp)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Referrer-Policy") == "" {
			t.Errorf("GET %s: X-Content-Type-Options %q, Referrer-Policy %q", path, resp.Header.Get("X-Content-Type-Options"), resp.Header.Get("Referrer-Policy"))
		}
	}
}

// registerTitled registers the application with the sample vendor, whose pages then carry
// the title ("" : its default).
func registerTitled(t *testing.T, appCode, testSecret, title string) {
	t.Helper()
	b, _ := json.Marshal(samplevendor.Credentials{AppCode: appCode, TestSecret: testSecret, Title: title})
	resp, err := http.Post(platform.SampleVendor+"/_/credentials", "application/json", bytes.NewReader(b))
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("registering with the sample vendor: %v %v", err, resp)
	}
	resp.Body.Close()
}

func writePNG(t *testing.T, path string) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 96, 96))
	for y := 0; y < 96; y++ {
		for x := 0; x < 96; x++ {
			c := color.RGBA{0x1f, 0x5f, 0xbf, 0xff}
			if (x-48)*(x-48)+(y-48)*(y-48) < 24*24 {
				c = color.RGBA{0xff, 0xd1, 0x66, 0xff}
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
