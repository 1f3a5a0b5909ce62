// Package samplevendor is a tiny vendor web service for the local stack: the page a tester
// opens from the super-app simulator. It receives the SSO ticket, exchanges it with the Go
// SDK, and shows the citizen's fields its application may see, as a real vendor would.
//
// An application's page is /apps/<appCode>/ (use it as the service's test or production
// address); its secrets are registered with POST /_/credentials, as a vendor would
// configure its own backend. The page loads the platform's JS-SDK and reports its title to
// the super-app simulator that frames it.
package samplevendor

import (
	"encoding/json"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jinlaiban/openplatform/shared/sdk"
)

// Vendor serves the sample pages.
type Vendor struct {
	platform string
	mu       sync.Mutex
	clients  map[string]*sdk.Client
	titles   map[string]string
}

// New returns a sample vendor calling the platform's gateway at platformURL.
func New(platformURL string) *Vendor {
	return &Vendor{platform: platformURL, clients: map[string]*sdk.Client{}, titles: map[string]string{}}
}

// Credentials registers an application's secrets.
type Credentials struct {
	AppCode          string `json:"app_code"`
	TestSecret       string `json:"test_secret"`
	ProductionSecret string `json:"production_secret"`
	// Title is the pages' title (default 示例服务): the platform's rule is that it equals
	// the service's listed name, which the simulator checks.
	Title string `json:"title,omitempty"`
}

// DefaultTitle is the sample pages' title when none was registered.
const DefaultTitle = "示例服务"

// SDKPath is the JS-SDK version the sample pages load from the platform.
const SDKPath = "/sdk/jssdk-1.0.0.js"

// Handler serves the vendor.
func (v *Vendor) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /_/credentials", v.register)
	mux.HandleFunc("GET /apps/{app}/page.js", v.script)
	mux.HandleFunc("GET /apps/{app}/", v.page)
	mux.HandleFunc("POST /apps/{app}/notify", v.notify)
	return mux
}

func (v *Vendor) register(w http.ResponseWriter, r *http.Request) {
	var c Credentials
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&c); err != nil || c.AppCode == "" {
		http.Error(w, "want {app_code, test_secret, production_secret}", http.StatusBadRequest)
		return
	}
	v.mu.Lock()
	v.clients[c.AppCode] = sdk.New(v.platform, c.AppCode, c.TestSecret, c.ProductionSecret)
	v.titles[c.AppCode] = c.Title
	v.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// Result is what the page learned.
type Result struct {
	ModuleCallbackCode string        `json:"module_callback_code"`
	Environment        string        `json:"environment"`
	User               *sdk.UserInfo `json:"user,omitempty"`
	Error              string        `json:"error,omitempty"`
	ErrorCode          string        `json:"error_code,omitempty"`
}

func (v *Vendor) page(w http.ResponseWriter, r *http.Request) {
	v.mu.Lock()
	client := v.clients[r.PathValue("app")]
	title := v.titles[r.PathValue("app")]
	v.mu.Unlock()
	if title == "" {
		title = DefaultTitle
	}
	ticket := r.URL.Query().Get("ticket")
	res := Result{ModuleCallbackCode: r.URL.Query().Get("module_callback_code"), Environment: sdk.Environment(ticket)}
	status := http.StatusOK
	switch {
	case client == nil:
		res.Error, status = "this application's credentials are not registered with the sample vendor", http.StatusNotFound
	case ticket == "":
		res.Error, status = "open this page from the super-app: it brings a ticket", http.StatusBadRequest
	default:
		// Exchange at once and keep nothing: the token is used for this one request.
		tok, err := client.ExchangeTicket(r.Context(), ticket)
		if err == nil {
			res.User, err = client.UserInfo(r.Context(), tok)
		}
		if err != nil {
			res.Error, res.ErrorCode, status = err.Error(), sdk.Code(err), http.StatusBadGateway
		}
	}
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(res)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = page.Execute(w, pageData{Result: res, Title: title, SDK: v.platform + SDKPath, Script: "/apps/" + r.PathValue("app") + "/page.js"})
}

type pageData struct {
	Result
	Title, SDK, Script string
}

// script is the page's own script: once the shell answers, it reports the page title (the
// simulator compares it with the service's name).
func (v *Vendor) script(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	_, _ = w.Write([]byte(`jlb.ready(function (env) {
  document.body.setAttribute('data-shell', env.inShell ? 'yes' : 'no');
  if (jlb.can('setTitle')) jlb.setTitle(document.title);
});
`))
}

// NotifyRequest asks the sample vendor to use the platform's capabilities for a citizen
// who signed in: an SMS from a template, an application message and a to-do item.
type NotifyRequest struct {
	CitizenID    string            `json:"citizen_id"`
	TemplateCode string            `json:"template_code"`
	Params       map[string]string `json:"params"`
}

// NotifyResult says what the platform answered to each.
type NotifyResult struct {
	SMS     *sdk.SMSResult `json:"sms,omitempty"`
	Message *sdk.Created   `json:"message,omitempty"`
	Todo    *sdk.Created   `json:"todo,omitempty"`
	Errors  []string       `json:"errors,omitempty"`
}

func (v *Vendor) notify(w http.ResponseWriter, r *http.Request) {
	v.mu.Lock()
	client := v.clients[r.PathValue("app")]
	v.mu.Unlock()
	var req NotifyRequest
	if client == nil || json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req) != nil || req.CitizenID == "" {
		http.Error(w, "register the application and send {citizen_id, template_code, params}", http.StatusBadRequest)
		return
	}
	ctx := r.Context()
	var res NotifyResult
	var err error
	id := "sample-" + req.CitizenID[:8] + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	if res.SMS, err = client.SendSMS(ctx, id+"-sms", sdk.SMS{TemplateCode: req.TemplateCode, Params: req.Params, CitizenID: req.CitizenID}); err != nil {
		res.Errors = append(res.Errors, "sms: "+err.Error())
	}
	if res.Message, err = client.SendMessage(ctx, id+"-msg", sdk.Message{CitizenID: req.CitizenID, Title: "办理进度通知",
		Body: "您的公积金提取申请已受理，请留意后续通知。"}); err != nil {
		res.Errors = append(res.Errors, "message: "+err.Error())
	}
	due := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Second)
	if res.Todo, err = client.CreateTodo(ctx, sdk.Todo{CitizenID: req.CitizenID, ExternalID: id, Title: "补充提取材料",
		Description: "请上传购房合同扫描件", DueAt: &due}); err != nil {
		res.Errors = append(res.Errors, "todo: "+err.Error())
	}
	w.Header().Set("Content-Type", "application/json")
	if len(res.Errors) > 0 {
		w.WriteHeader(http.StatusBadGateway)
	}
	_ = json.NewEncoder(w).Encode(res)
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>body{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;margin:0;background:#f5f7fa;color:#1f2d3d}
main{max-width:28rem;margin:0 auto;padding:1.5rem}h1{font-size:1.25rem}dl{background:#fff;border-radius:8px;padding:1rem;display:grid;grid-template-columns:auto 1fr;gap:.5rem 1rem}
dt{color:#5a6b7d}dd{margin:0;word-break:break-all}.err{color:#c0392b;background:#fff;border-radius:8px;padding:1rem}img{width:4rem;border-radius:50%}</style></head>
<script src="{{.SDK}}"></script><script src="{{.Script}}"></script>
<body><main><h1>{{.Title}} · Sample vendor service</h1>
{{if .Error}}<p class="err">{{.Error}}</p>{{else}}<dl>
<dt>环境</dt><dd>{{.Environment}}</dd>
<dt>module_callback_code</dt><dd>{{.ModuleCallbackCode}}</dd>
<dt>用户 id</dt><dd>{{.User.ID}}</dd>
<dt>手机号</dt><dd>{{.User.Mobile}}</dd>
{{if .User.IDNumber}}<dt>身份证号</dt><dd>{{.User.IDNumber}}</dd>{{end}}
{{if .User.FaceImageURL}}<dt>人脸图片</dt><dd><img src="{{.User.FaceImageURL}}" alt="face"></dd>{{end}}
</dl>{{end}}</main></body></html>`))
