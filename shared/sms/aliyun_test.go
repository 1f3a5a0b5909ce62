package sms

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jinlaiban/openplatform/shared/config"
)

// Known answers from Alibaba Cloud's documentation of the RPC signature (version 1.0).

// The "Request signature" example for RPC APIs: DescribeRegions with AccessKeyId testid and
// AccessKey secret testsecret. The documentation gives the unsigned request
//
//	http://ecs.aliyuncs.com/?Timestamp=2016-02-23T12:46:24Z&Format=XML&AccessKeyId=testid&Action=DescribeRegions&SignatureMethod=HMAC-SHA1&SignatureNonce=3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf&Version=2014-05-26&SignatureVersion=1.0
//
// and "the signature string calculated by using testsecret&": OLeaidS1JvxuMvnyHOwuJ+uX5qY=
// (it prints no string-to-sign for this example).
func TestAliyunSignatureDescribeRegionsExample(t *testing.T) {
	params := map[string]string{
		"Timestamp":        "2016-02-23T12:46:24Z",
		"Format":           "XML",
		"AccessKeyId":      "testid",
		"Action":           "DescribeRegions",
		"SignatureMethod":  "HMAC-SHA1",
		"SignatureNonce":   "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
		"Version":          "2014-05-26",
		"SignatureVersion": "1.0",
	}
	if got, want := aliyunSign(http.MethodGet, params, "testsecret"), "OLeaidS1JvxuMvnyHOwuJ+uX5qY="; got != want {
		t.Errorf("signature = %s, want %s (string to sign %s)", got, want, aliyunStringToSign(http.MethodGet, params))
	}
	// Signature is never part of what is signed.
	params["Signature"] = "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
	if got, want := aliyunSign(http.MethodGet, params, "testsecret"), "OLeaidS1JvxuMvnyHOwuJ+uX5qY="; got != want {
		t.Errorf("with Signature present: signature = %s, want %s", got, want)
	}

	// The older (2016–2017) edition of the same example spelled the parameter TimeStamp and
	// gave CT9X0VtwR86fNWSnsc6v8YGOjuE= (the value also quoted in the docs' overview URL).
	// Its printed string-to-sign has bare '&' where %26 belongs, a typesetting slip, so only
	// the signature is pinned here.
	delete(params, "Signature")
	params["TimeStamp"] = params["Timestamp"]
	delete(params, "Timestamp")
	if got, want := aliyunSign(http.MethodGet, params, "testsecret"), "CT9X0VtwR86fNWSnsc6v8YGOjuE="; got != want {
		t.Errorf("TimeStamp edition: signature = %s, want %s", got, want)
	}
}

// The SMS documentation's own example (短信服务 "HTTP协议及签名" / 签名机制): SendSms with
// AccessKeyId testId and AccessKey secret testSecret. Sorted query string, string to sign,
// signature and URL-encoded signature are as the documentation prints them.
func TestAliyunSignatureSendSmsExample(t *testing.T) {
	params := map[string]string{
		"SignatureMethod":  "HMAC-SHA1",
		"SignatureNonce":   "45e25e9b-0a6f-4070-8c85-2956eda1b466",
		"AccessKeyId":      "testId",
		"SignatureVersion": "1.0",
		"Timestamp":        "2017-07-12T02:42:19Z",
		"Format":           "XML",
		"Action":           "SendSms",
		"Version":          "2017-05-25",
		"RegionId":         "cn-hangzhou",
		"PhoneNumbers":     "15300000001",
		"SignName":         "阿里云短信测试专用",
		"TemplateParam":    `{"customer":"test"}`,
		"TemplateCode":     "SMS_71390007",
		"OutId":            "123",
	}
	const (
		sortedQuery = "AccessKeyId=testId&Action=SendSms&Format=XML&OutId=123&PhoneNumbers=15300000001&RegionId=cn-hangzhou" +
			"&SignName=%E9%98%BF%E9%87%8C%E4%BA%91%E7%9F%AD%E4%BF%A1%E6%B5%8B%E8%AF%95%E4%B8%93%E7%94%A8" +
			"&SignatureMethod=HMAC-SHA1&SignatureNonce=45e25e9b-0a6f-4070-8c85-2956eda1b466&SignatureVersion=1.0" +
			"&TemplateCode=SMS_71390007&TemplateParam=%7B%22customer%22%3A%22test%22%7D&Timestamp=2017-07-12T02%3A42%3A19Z" +
			"&Version=2017-05-25"
		stringToSign = "GET&%2F&AccessKeyId%3DtestId%26Action%3DSendSms%26Format%3DXML%26OutId%3D123" +
			"%26PhoneNumbers%3D15300000001%26RegionId%3Dcn-hangzhou" +
			"%26SignName%3D%25E9%2598%25BF%25E9%2587%258C%25E4%25BA%2591%25E7%259F%25AD%25E4%25BF%25A1%25E6%25B5%258B%25E8%25AF%2595%25E4%25B8%2593%25E7%2594%25A8" +
			"%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D45e25e9b-0a6f-4070-8c85-2956eda1b466%26SignatureVersion%3D1.0" +
			"%26TemplateCode%3DSMS_71390007%26TemplateParam%3D%257B%2522customer%2522%253A%2522test%2522%257D" +
			"%26Timestamp%3D2017-07-12T02%253A42%253A19Z%26Version%3D2017-05-25"
		signature        = "zJDF+Lrzhj/ThnlvIToysFRq6t4="
		encodedSignature = "zJDF%2BLrzhj%2FThnlvIToysFRq6t4%3D"
	)
	if got := aliyunCanonicalize(params, "Signature"); got != sortedQuery {
		t.Errorf("sorted query string:\n got %s\nwant %s", got, sortedQuery)
	}
	if got := aliyunStringToSign(http.MethodGet, params); got != stringToSign {
		t.Errorf("string to sign:\n got %s\nwant %s", got, stringToSign)
	}
	got := aliyunSign(http.MethodGet, params, "testSecret")
	if got != signature {
		t.Errorf("signature = %s, want %s", got, signature)
	}
	if enc := aliyunPercentEncode(got); enc != encodedSignature {
		t.Errorf("encoded signature = %s, want %s", enc, encodedSignature)
	}
	// The method is part of what is signed.
	if post := aliyunSign(http.MethodPost, params, "testSecret"); post == signature {
		t.Error("POST and GET signatures are the same")
	}
}

func TestAliyunPercentEncode(t *testing.T) {
	for in, want := range map[string]string{
		"":                     "",
		"AZaz09-_.~":           "AZaz09-_.~",
		"a b":                  "a%20b",
		"a*b":                  "a%2Ab",
		"a+b":                  "a%2Bb",
		"/":                    "%2F",
		"=&":                   "%3D%26",
		"%7E":                  "%257E",
		`{"k":"v"}`:            "%7B%22k%22%3A%22v%22%7D",
		"2016-02-23T12:46:24Z": "2016-02-23T12%3A46%3A24Z",
		"阿":                    "%E9%98%BF",
	} {
		if got := aliyunPercentEncode(in); got != want {
			t.Errorf("aliyunPercentEncode(%q) = %q, want %q", in, got, want)
		}
	}
}

// refEncode is the documentation's recipe, kept apart from aliyunPercentEncode so that the
// stand-in service checks signatures independently: form-encode, then + → %20, * → %2A,
// %7E → ~.
func refEncode(s string) string {
	return strings.NewReplacer("+", "%20", "*", "%2A", "%7E", "~").Replace(url.QueryEscape(s))
}

func refStringToSign(method string, p map[string]string) string {
	var names []string
	for k := range p {
		if k != "Signature" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var pairs []string
	for _, k := range names {
		pairs = append(pairs, refEncode(k)+"="+refEncode(p[k]))
	}
	return method + "&" + refEncode("/") + "&" + refEncode(strings.Join(pairs, "&"))
}

// fakeDysms stands in for dysmsapi: it checks a request the way the service does and
// answers with the documented JSON.
type fakeDysms struct {
	keyID, secret string
	now           func() time.Time // the service's clock
	// answer, when set, answers a request that passed the checks.
	answer func(w http.ResponseWriter, p map[string]string)

	mu       sync.Mutex
	nonces   map[string]bool
	received []map[string]string
	methods  []string
	types    []string
	sent     int
}

func newFakeDysms(keyID, secret string) *fakeDysms {
	return &fakeDysms{keyID: keyID, secret: secret, now: time.Now, nonces: map[string]bool{}}
}

func writeAnswer(w http.ResponseWriter, status int, a map[string]string) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(a)
}

func refuse(w http.ResponseWriter, status int, code, msg string) {
	writeAnswer(w, status, map[string]string{"Code": code, "Message": msg, "RequestId": "8E3E6F8C-6A3C-4C2A-9E5A-REFUSED"})
}

func (f *fakeDysms) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		refuse(w, http.StatusNotFound, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.")
		return
	}
	if err := r.ParseForm(); err != nil { // query and form body, like the service
		refuse(w, http.StatusBadRequest, "InvalidParameter", "Unreadable request.")
		return
	}
	p := map[string]string{}
	for k, vs := range r.Form {
		if len(vs) != 1 {
			refuse(w, http.StatusBadRequest, "InvalidParameter", "Parameter "+k+" given more than once.")
			return
		}
		p[k] = vs[0]
	}
	f.mu.Lock()
	f.received = append(f.received, p)
	f.methods = append(f.methods, r.Method)
	f.types = append(f.types, r.Header.Get("Content-Type"))
	f.mu.Unlock()

	for _, k := range []string{"AccessKeyId", "Action", "Format", "RegionId", "SignatureMethod", "SignatureNonce",
		"SignatureVersion", "Timestamp", "Version", "Signature", "PhoneNumbers", "SignName", "TemplateCode"} {
		if p[k] == "" {
			refuse(w, http.StatusBadRequest, "Missing"+k, k+" is mandatory for this action.")
			return
		}
	}
	switch {
	case p["AccessKeyId"] != f.keyID:
		refuse(w, http.StatusNotFound, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
		return
	case p["Action"] != "SendSms":
		refuse(w, http.StatusNotFound, "InvalidAction.NotFound", "Specified api is not found.")
		return
	case p["Version"] != "2017-05-25":
		refuse(w, http.StatusBadRequest, "InvalidVersion", "Specified parameter Version is not valid.")
		return
	case p["Format"] != "JSON":
		refuse(w, http.StatusBadRequest, "InvalidParameter.Format", "The test service answers only JSON.")
		return
	case p["SignatureMethod"] != "HMAC-SHA1":
		refuse(w, http.StatusBadRequest, "InvalidSignatureMethod", "Specified signature method is not valid.")
		return
	case p["SignatureVersion"] != "1.0":
		refuse(w, http.StatusBadRequest, "InvalidSignatureVersion", "Specified signature version is not valid.")
		return
	}
	ts, err := time.Parse("2006-01-02T15:04:05Z", p["Timestamp"])
	if err != nil {
		refuse(w, http.StatusBadRequest, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted.")
		return
	}
	if d := f.now().Sub(ts); d > 15*time.Minute || d < -15*time.Minute {
		refuse(w, http.StatusBadRequest, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")
		return
	}
	sts := refStringToSign(r.Method, p)
	if want := hmacSHA1Base64(f.secret+"&", sts); p["Signature"] != want {
		refuse(w, http.StatusBadRequest, "SignatureDoesNotMatch",
			"Specified signature is not matched with our calculation. server string to sign is:"+sts)
		return
	}
	f.mu.Lock()
	used := f.nonces[p["SignatureNonce"]]
	f.nonces[p["SignatureNonce"]] = true
	f.sent++
	n := f.sent
	f.mu.Unlock()
	if used {
		refuse(w, http.StatusBadRequest, "SignatureNonceUsed", "Specified signature nonce was used already.")
		return
	}
	if tp, ok := p["TemplateParam"]; ok && !json.Valid([]byte(tp)) {
		writeAnswer(w, http.StatusOK, map[string]string{"Code": "isv.INVALID_JSON_PARAM", "Message": "JSON参数不合法，只接受字符串值",
			"RequestId": "A0B1C2D3-0000-0000-0000-000000000000"})
		return
	}
	if f.answer != nil {
		f.answer(w, p)
		return
	}
	writeAnswer(w, http.StatusOK, map[string]string{"Code": "OK", "Message": "OK",
		"BizId": fmt.Sprintf("90061974693649844%d^0", n), "RequestId": "F655A8D5-B967-440B-8683-DAD6FF8DE990"})
}

func (f *fakeDysms) last() map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.received[len(f.received)-1]
}

const (
	testKeyID  = "LTAI-test-key-id"
	testSecret = "test-secret-Zq8v3mWk2R9xYp4LnB7c"
	testMobile = "13800138000"
)

func startFake(t *testing.T, f *fakeDysms) *Aliyun {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	a, err := NewAliyun(srv.URL+"/", testKeyID, testSecret, "cn-hangzhou")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func testMessage() Message {
	return Message{To: testMobile, SignName: "晋来办", TemplateCode: "SMS_123456789",
		Params: map[string]string{"code": "482913", "minutes": "5"}}
}

func TestAliyunSendAgainstService(t *testing.T) {
	f := newFakeDysms(testKeyID, testSecret)
	a := startFake(t, f)
	ctx := context.Background()

	id1, err := a.Send(ctx, testMessage())
	if err != nil {
		t.Fatalf("first send: %v", err)
	}
	first := f.last()
	id2, err := a.Send(ctx, testMessage())
	if err != nil {
		t.Fatalf("second send: %v", err)
	}
	second := f.last()
	if id1 == "" || id2 == "" || id1 == id2 {
		t.Errorf("provider ids %q, %q: want two different BizIds", id1, id2)
	}
	if first["SignatureNonce"] == second["SignatureNonce"] {
		t.Errorf("nonce %q used twice", first["SignatureNonce"])
	}
	for _, p := range []map[string]string{first, second} {
		for k, want := range map[string]string{
			"AccessKeyId": testKeyID, "Action": "SendSms", "Format": "JSON", "RegionId": "cn-hangzhou",
			"SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "Version": "2017-05-25",
			"PhoneNumbers": testMobile, "SignName": "晋来办", "TemplateCode": "SMS_123456789",
		} {
			if p[k] != want {
				t.Errorf("%s = %q, want %q", k, p[k], want)
			}
		}
		var params map[string]string
		if err := json.Unmarshal([]byte(p["TemplateParam"]), &params); err != nil || params["code"] != "482913" || params["minutes"] != "5" || len(params) != 2 {
			t.Errorf("TemplateParam = %q (%v)", p["TemplateParam"], err)
		}
		if _, ok := p["OutId"]; ok {
			t.Error("OutId sent without one")
		}
		for k := range p {
			if strings.Contains(p[k], testSecret) {
				t.Errorf("the secret was sent, in %s", k)
			}
		}
	}
	for i := range f.methods {
		if f.methods[i] != http.MethodPost || f.types[i] != "application/x-www-form-urlencoded" {
			t.Errorf("request %d: %s %s, want a POSTed form", i, f.methods[i], f.types[i])
		}
	}
}

// With a fixed clock (in another time zone) and nonce, the request carries exactly them.
func TestAliyunSendUsesClockAndNonce(t *testing.T) {
	f := newFakeDysms(testKeyID, testSecret)
	f.now = func() time.Time { return time.Date(2017, 7, 12, 2, 50, 0, 0, time.UTC) }
	a := startFake(t, f)
	a.now = func() time.Time { return time.Date(2017, 7, 12, 10, 42, 19, 0, time.FixedZone("CST", 8*3600)) }
	a.nonce = func() string { return "45e25e9b-0a6f-4070-8c85-2956eda1b466" }
	_, err := a.Send(context.Background(), Message{To: "15300000001", SignName: "阿里云短信测试专用", TemplateCode: "SMS_71390007",
		Params: map[string]string{"customer": "test"}})
	if err != nil {
		t.Fatal(err)
	}
	p := f.last()
	if p["Timestamp"] != "2017-07-12T02:42:19Z" || p["SignatureNonce"] != "45e25e9b-0a6f-4070-8c85-2956eda1b466" ||
		p["TemplateParam"] != `{"customer":"test"}` {
		t.Errorf("Timestamp %q, SignatureNonce %q, TemplateParam %q", p["Timestamp"], p["SignatureNonce"], p["TemplateParam"])
	}
	if p["Signature"] != aliyunSign(http.MethodPost, p, testSecret) {
		t.Error("Signature is not the POST signature of the parameters sent")
	}
}

func TestAliyunSendDefaultSignNameAndNoParams(t *testing.T) {
	f := newFakeDysms(testKeyID, testSecret)
	a := startFake(t, f)
	a.signName = "晋来办"
	if _, err := a.Send(context.Background(), Message{To: testMobile, TemplateCode: "SMS_1"}); err != nil {
		t.Fatal(err)
	}
	p := f.last()
	if p["SignName"] != "晋来办" {
		t.Errorf("SignName = %q", p["SignName"])
	}
	if _, ok := p["TemplateParam"]; ok {
		t.Errorf("TemplateParam %q sent for a template without parameters", p["TemplateParam"])
	}
}

func TestAliyunSendRefusesIncompleteMessages(t *testing.T) {
	f := newFakeDysms(testKeyID, testSecret)
	a := startFake(t, f)
	for _, m := range []Message{
		{SignName: "晋来办", TemplateCode: "SMS_1"},
		{To: testMobile, SignName: "晋来办"},
		{To: testMobile, TemplateCode: "SMS_1"},
	} {
		if _, err := a.Send(context.Background(), m); err == nil {
			t.Errorf("%+v: no error", m)
		}
	}
	if len(f.received) != 0 {
		t.Errorf("%d requests sent", len(f.received))
	}
}

// Every way the service refuses becomes an error naming what went wrong, and no error text
// holds the secret (or the recipient's number).
func TestAliyunSendErrors(t *testing.T) {
	const wrongSecret = "wrong-secret-Hh5Tt2Uu8Ii1Oo4Pp7Aa"
	cases := []struct {
		name   string
		setup  func(f *fakeDysms, a *Aliyun)
		sends  int // the last one must fail; those before it succeed
		want   []string
		status int // the AliyunError's HTTPStatus, 0: not an AliyunError
	}{
		{name: "business limit", sends: 1, status: 200,
			setup: func(f *fakeDysms, a *Aliyun) {
				f.answer = func(w http.ResponseWriter, _ map[string]string) {
					writeAnswer(w, http.StatusOK, map[string]string{"Code": "isv.BUSINESS_LIMIT_CONTROL",
						"Message": "触发分钟级流控Permits:1", "RequestId": "2184201F-BFB3-446B-B1F2-C746B7BF0657"})
				}
			},
			want: []string{"isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1", "2184201F-BFB3-446B-B1F2-C746B7BF0657"}},
		{name: "nonce reused", sends: 2, status: 400,
			setup: func(f *fakeDysms, a *Aliyun) { a.nonce = func() string { return "the-same-nonce" } },
			want:  []string{"SignatureNonceUsed"}},
		{name: "clock 20 minutes slow", sends: 1, status: 400,
			setup: func(f *fakeDysms, a *Aliyun) { a.now = func() time.Time { return time.Now().Add(-20 * time.Minute) } },
			want:  []string{"InvalidTimeStamp.Expired"}},
		{name: "wrong secret", sends: 1, status: 400,
			setup: func(f *fakeDysms, a *Aliyun) { a.secret = wrongSecret },
			want:  []string{"SignatureDoesNotMatch", "Specified signature is not matched", "[string to sign omitted]"}},
		{name: "unknown key", sends: 1, status: 404,
			setup: func(f *fakeDysms, a *Aliyun) { a.keyID = "LTAI-unknown" },
			want:  []string{"InvalidAccessKeyId.NotFound"}},
		{name: "503 without JSON", sends: 1,
			setup: func(f *fakeDysms, a *Aliyun) {
				f.answer = func(w http.ResponseWriter, _ map[string]string) {
					w.Header().Set("Content-Type", "text/html")
					w.WriteHeader(http.StatusServiceUnavailable)
					fmt.Fprint(w, "<html><body>503 Service Temporarily Unavailable</body></html>")
				}
			},
			want: []string{"HTTP 503"}},
		{name: "500 with JSON", sends: 1, status: 500,
			setup: func(f *fakeDysms, a *Aliyun) {
				f.answer = func(w http.ResponseWriter, _ map[string]string) {
					writeAnswer(w, http.StatusInternalServerError, map[string]string{"Code": "InternalError",
						"Message": "The request processing has failed due to some unknown error.", "RequestId": "R-500"})
				}
			},
			want: []string{"InternalError", "HTTP 500"}},
		{name: "200 not JSON", sends: 1,
			setup: func(f *fakeDysms, a *Aliyun) {
				f.answer = func(w http.ResponseWriter, _ map[string]string) { fmt.Fprint(w, "<ok/>") }
			},
			want: []string{"unreadable answer"}},
		{name: "answer quoting the secret and number", sends: 1, status: 200,
			setup: func(f *fakeDysms, a *Aliyun) {
				f.answer = func(w http.ResponseWriter, _ map[string]string) {
					writeAnswer(w, http.StatusOK, map[string]string{"Code": "isv.OUT_OF_SERVICE",
						"Message": "key " + testSecret + " may not send to " + testMobile, "RequestId": "R-echo"})
				}
			},
			want: []string{"isv.OUT_OF_SERVICE", "[redacted]", "[recipient]"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeDysms(testKeyID, testSecret)
			a := startFake(t, f)
			c.setup(f, a)
			var err error
			for i := 0; i < c.sends; i++ {
				_, err = a.Send(context.Background(), testMessage())
				if i < c.sends-1 && err != nil {
					t.Fatalf("send %d: %v", i+1, err)
				}
			}
			if err == nil {
				t.Fatal("no error")
			}
			checkErrorText(t, err, wrongSecret)
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			var ae *AliyunError
			if errors.As(err, &ae) != (c.status != 0) || (ae != nil && ae.HTTPStatus != c.status) {
				t.Errorf("error %#v: want an AliyunError with HTTP status %d", err, c.status)
			}
		})
	}
}

func checkErrorText(t *testing.T, err error, more ...string) {
	t.Helper()
	msg := err.Error()
	for _, s := range append([]string{testSecret, testMobile}, more...) {
		if strings.Contains(msg, s) {
			t.Errorf("error text %q contains %q", msg, s)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("error text %q is more than one line", msg)
	}
}

// A service that does not answer: the client's timeout, and the caller's deadline, end it.
func TestAliyunSendTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })

	a, err := NewAliyun(srv.URL+"/", testKeyID, testSecret, "cn-hangzhou")
	if err != nil {
		t.Fatal(err)
	}
	if a.client.Timeout <= 0 {
		t.Fatal("the default client has no timeout")
	}
	a.client = &http.Client{Timeout: 200 * time.Millisecond}
	start := time.Now()
	_, err = a.Send(context.Background(), testMessage())
	var ne net.Error
	if err == nil || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("error %v: want a timeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	checkErrorText(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	a.client = &http.Client{Timeout: time.Minute}
	if _, err = a.Send(ctx, testMessage()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v: want the context's deadline", err)
	}
	checkErrorText(t, err)
}

func TestAliyunUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	endpoint := srv.URL + "/"
	srv.Close()
	a, err := NewAliyun(endpoint, testKeyID, testSecret, "cn-hangzhou")
	if err != nil {
		t.Fatal(err)
	}
	if _, err = a.Send(context.Background(), testMessage()); err == nil {
		t.Fatal("no error")
	}
	checkErrorText(t, err)
}

func TestAliyunPrintsWithoutSecret(t *testing.T) {
	a, err := NewAliyun("https://dysmsapi.aliyuncs.com/", testKeyID, testSecret, "cn-hangzhou")
	if err != nil {
		t.Fatal(err)
	}
	var p Provider = a
	for _, s := range []string{fmt.Sprint(a), fmt.Sprintf("%v %+v %#v %s", a, a, a, p), fmt.Sprintf("%v %+v %#v", *a, *a, *a)} {
		if strings.Contains(s, testSecret) || !strings.Contains(s, testKeyID) {
			t.Errorf("printed as %s", s)
		}
	}
}

func TestNewAliyunEndpoint(t *testing.T) {
	for _, e := range []string{"https://dysmsapi.aliyuncs.com/", "https://dysmsapi.aliyuncs.com", "http://127.0.0.1:8080/", "http://localhost/"} {
		if _, err := NewAliyun(e, "id", "secret", "cn-hangzhou"); err != nil {
			t.Errorf("%s: %v", e, err)
		}
	}
	for _, e := range []string{"", "dysmsapi.aliyuncs.com", "http://dysmsapi.aliyuncs.com/", "ftp://x/", "https://x/?a=b", "https://u:p@x/"} {
		if _, err := NewAliyun(e, "id", "secret", "cn-hangzhou"); err == nil {
			t.Errorf("%q: accepted", e)
		}
	}
}

func aliyunConfig() Config {
	return Config{Provider: "aliyun", SignName: "晋来办", AliyunEndpoint: "https://dysmsapi.aliyuncs.com/", AliyunRegion: "cn-hangzhou",
		AliyunAccessKeyID: testKeyID, AliyunAccessKeySecret: testSecret}
}

func TestNewAliyunProvider(t *testing.T) {
	p, err := New(aliyunConfig(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, ok := p.(*Aliyun)
	if !ok || a.signName != "晋来办" || a.region != "cn-hangzhou" || a.keyID != testKeyID || a.secret != testSecret {
		t.Fatalf("New = %v", p)
	}

	for _, c := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.AliyunAccessKeyID = "" }, `ALIYUN_ACCESS_KEY_ID: required when SMS_PROVIDER=aliyun, not set (set ALIYUN_ACCESS_KEY_ID, ALIYUN_ACCESS_KEY_ID_FILE, or mount secret "aliyun-access-key-id")`},
		{func(c *Config) { c.AliyunAccessKeySecret = "" }, `ALIYUN_ACCESS_KEY_SECRET: required when SMS_PROVIDER=aliyun, not set (set ALIYUN_ACCESS_KEY_SECRET, ALIYUN_ACCESS_KEY_SECRET_FILE, or mount secret "aliyun-access-key-secret")`},
		{func(c *Config) { c.AliyunRegion = "" }, "ALIYUN_SMS_REGION: required when SMS_PROVIDER=aliyun, not set"},
		{func(c *Config) { c.AliyunEndpoint = "" }, "ALIYUN_SMS_ENDPOINT: required when SMS_PROVIDER=aliyun, not set"},
		{func(c *Config) { c.AliyunEndpoint = "http://dysmsapi.aliyuncs.com/" }, `ALIYUN_SMS_ENDPOINT: invalid value "http://dysmsapi.aliyuncs.com/" (want https (http only for a loopback host))`},
		{func(c *Config) { c.Provider = "twilio" }, `SMS_PROVIDER: invalid value "twilio" (want dev or aliyun)`},
	} {
		cfg := aliyunConfig()
		c.edit(&cfg)
		p, err := New(cfg, nil, nil)
		if err == nil || err.Error() != c.want || p != nil {
			t.Errorf("New = %v, %v; want error %s", p, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), testSecret) {
			t.Errorf("error %q holds the secret", err)
		}
	}
}

// Through config.Load: the aliyun settings have defaults or are not needed for the dev
// provider, and the AccessKey pair comes from variables, _FILE or the secrets mount.
func TestConfigLoadAliyun(t *testing.T) {
	dir := t.TempDir()
	old := config.SecretsDir
	config.SecretsDir = filepath.Join(dir, "secrets")
	t.Cleanup(func() { config.SecretsDir = old })
	if err := os.MkdirAll(config.SecretsDir, 0o700); err != nil {
		t.Fatal(err)
	}
	vars := []string{"SMS_PROVIDER", "SMS_SIGN_NAME", "ALIYUN_SMS_ENDPOINT", "ALIYUN_SMS_REGION", "ALIYUN_ACCESS_KEY_ID",
		"ALIYUN_ACCESS_KEY_ID_FILE", "ALIYUN_ACCESS_KEY_SECRET", "ALIYUN_ACCESS_KEY_SECRET_FILE"}
	reset := func() {
		for _, v := range vars {
			t.Setenv(v, "") // restored after the test
			os.Unsetenv(v)
		}
	}
	load := func() (Provider, error) {
		var cfg Config
		if err := config.Load(&cfg); err != nil {
			return nil, err
		}
		return New(cfg, nil, nil)
	}

	reset()
	t.Setenv("SMS_PROVIDER", "dev")
	var cfg Config
	if err := config.Load(&cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.AliyunEndpoint != "https://dysmsapi.aliyuncs.com/" || cfg.AliyunRegion != "cn-hangzhou" {
		t.Errorf("defaults: endpoint %q, region %q", cfg.AliyunEndpoint, cfg.AliyunRegion)
	}
	if p, err := New(cfg, nil, nil); err != nil {
		t.Errorf("dev without aliyun settings: %v", err)
	} else if _, ok := p.(*Dev); !ok {
		t.Errorf("dev: %T", p)
	}

	reset()
	t.Setenv("SMS_PROVIDER", "aliyun")
	if _, err := load(); err == nil || !strings.HasPrefix(err.Error(), "ALIYUN_ACCESS_KEY_ID: required when SMS_PROVIDER=aliyun") {
		t.Errorf("aliyun without a key: %v", err)
	}

	t.Setenv("ALIYUN_ACCESS_KEY_ID", testKeyID)
	secretFile := filepath.Join(dir, "ak-secret")
	if err := os.WriteFile(secretFile, []byte(testSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ALIYUN_ACCESS_KEY_SECRET_FILE", secretFile)
	p, err := load()
	if err != nil {
		t.Fatalf("aliyun with the secret in a file: %v", err)
	}
	if a := p.(*Aliyun); a.secret != testSecret || a.keyID != testKeyID || a.endpoint != "https://dysmsapi.aliyuncs.com/" {
		t.Errorf("loaded %v", a)
	}

	reset()
	t.Setenv("SMS_PROVIDER", "aliyun")
	for name, val := range map[string]string{"aliyun-access-key-id": "mounted-id", "aliyun-access-key-secret": "mounted-secret-value"} {
		if err := os.WriteFile(filepath.Join(config.SecretsDir, name), []byte(val), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if p, err = load(); err != nil {
		t.Fatalf("aliyun with mounted secrets: %v", err)
	}
	if a := p.(*Aliyun); a.keyID != "mounted-id" || a.secret != "mounted-secret-value" {
		t.Errorf("loaded %v", a)
	}
}

func hmacSHA1Base64(key, msg string) string {
	mac := hmac.New(sha1.New, []byte(key))
	mac.Write([]byte(msg))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
