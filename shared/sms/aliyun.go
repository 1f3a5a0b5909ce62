package sms

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Alibaba Cloud SMS (dysmsapi): the SendSms action of API version 2017-05-25, signed with
// the RPC signature, version 1.0 (HMAC-SHA1 over the sorted, percent-encoded parameters;
// see the Alibaba Cloud documentation "Request signature" for RPC APIs).
const (
	aliyunAction        = "SendSms"
	aliyunAPIVersion    = "2017-05-25"
	aliyunSigMethod     = "HMAC-SHA1"
	aliyunSigVersion    = "1.0"
	aliyunTimeLayout    = "2006-01-02T15:04:05Z" // ISO 8601, UTC
	aliyunTimeout       = 10 * time.Second
	aliyunMaxAnswer     = 64 << 10
	aliyunMaxMessageLen = 200
)

// Aliyun sends messages through Alibaba Cloud SMS. Build it with NewAliyun (or through New
// with SMS_PROVIDER=aliyun). It keeps the AccessKey secret to itself: it is never sent, and
// never appears in an error or in the provider's printed form.
type Aliyun struct {
	endpoint string
	keyID    string
	secret   string
	region   string
	signName string // used when a Message has no SignName

	client *http.Client
	now    func() time.Time // the clock for Timestamp; tests replace it
	nonce  func() string    // SignatureNonce, fresh per request; tests replace it
}

// NewAliyun returns an Alibaba Cloud SMS provider that posts to endpoint (e.g.
// https://dysmsapi.aliyuncs.com/) with the given AccessKey pair and region (e.g.
// cn-hangzhou). Requests time out after 10 seconds.
func NewAliyun(endpoint, accessKeyID, accessKeySecret, regionID string) (*Aliyun, error) {
	if err := checkAliyunEndpoint(endpoint); err != nil {
		return nil, fmt.Errorf("aliyun sms: endpoint %q: %v", endpoint, err)
	}
	if accessKeyID == "" || accessKeySecret == "" || regionID == "" {
		return nil, errors.New("aliyun sms: the AccessKey id, AccessKey secret and region are required")
	}
	return &Aliyun{
		endpoint: endpoint, keyID: accessKeyID, secret: accessKeySecret, region: regionID,
		client: &http.Client{Timeout: aliyunTimeout},
		now:    time.Now,
		nonce:  randomNonce,
	}, nil
}

// newAliyunFromConfig is New's SMS_PROVIDER=aliyun: the aliyun settings are required
// only then, and a missing one is named in a one-line error.
func newAliyunFromConfig(cfg Config) (*Aliyun, error) {
	if cfg.AliyunEndpoint == "" {
		return nil, errors.New("ALIYUN_SMS_ENDPOINT: required when SMS_PROVIDER=aliyun, not set")
	}
	if err := checkAliyunEndpoint(cfg.AliyunEndpoint); err != nil {
		return nil, fmt.Errorf("ALIYUN_SMS_ENDPOINT: invalid value %q (%v)", cfg.AliyunEndpoint, err)
	}
	if cfg.AliyunRegion == "" {
		return nil, errors.New("ALIYUN_SMS_REGION: required when SMS_PROVIDER=aliyun, not set")
	}
	for _, s := range []struct{ key, name, val string }{
		{"ALIYUN_ACCESS_KEY_ID", "aliyun-access-key-id", cfg.AliyunAccessKeyID},
		{"ALIYUN_ACCESS_KEY_SECRET", "aliyun-access-key-secret", cfg.AliyunAccessKeySecret},
	} {
		if s.val == "" {
			return nil, fmt.Errorf("%s: required when SMS_PROVIDER=aliyun, not set (set %s, %s_FILE, or mount secret %q)",
				s.key, s.key, s.key, s.name)
		}
	}
	a, err := NewAliyun(cfg.AliyunEndpoint, cfg.AliyunAccessKeyID, cfg.AliyunAccessKeySecret, cfg.AliyunRegion)
	if err != nil {
		return nil, err
	}
	a.signName = cfg.SignName
	return a, nil
}

// checkAliyunEndpoint accepts an https URL, or an http one on the loopback interface (a
// local stand-in for the service): signed requests carry mobile numbers.
func checkAliyunEndpoint(endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return errors.New("want an https URL such as https://dysmsapi.aliyuncs.com/")
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return errors.New("want a URL without user, query or fragment")
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return errors.New("want https (http only for a loopback host)")
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// String describes the provider without its secret.
func (a Aliyun) String() string {
	return fmt.Sprintf("sms.Aliyun{endpoint: %s, region: %s, access key id: %s}", a.endpoint, a.region, a.keyID)
}

// GoString is String, so that %#v does not print the secret either.
func (a Aliyun) GoString() string { return a.String() }

// AliyunError is the service's refusal: an answer whose Code is not OK.
type AliyunError struct {
	HTTPStatus int    // the HTTP status of the answer
	Code       string // e.g. isv.BUSINESS_LIMIT_CONTROL, SignatureDoesNotMatch
	Message    string // the service's message, shortened and without secrets or the recipient
	RequestID  string
}

func (e *AliyunError) Error() string {
	s := fmt.Sprintf("aliyun sms: %s: %s", e.Code, e.Message)
	if e.HTTPStatus != http.StatusOK {
		s += fmt.Sprintf(" (HTTP %d)", e.HTTPStatus)
	}
	if e.RequestID != "" {
		s += " (request " + e.RequestID + ")"
	}
	return s
}

// aliyunAnswer is the JSON answer of SendSms, and of the gateway's errors.
type aliyunAnswer struct {
	Code      string `json:"Code"`
	Message   string `json:"Message"`
	BizID     string `json:"BizId"`
	RequestID string `json:"RequestId"`
}

// Send sends m with SendSms and returns the service's BizId for it.
func (a *Aliyun) Send(ctx context.Context, m Message) (string, error) {
	signName := m.SignName
	if signName == "" {
		signName = a.signName
	}
	switch {
	case m.To == "":
		return "", errors.New("aliyun sms: no recipient")
	case m.TemplateCode == "":
		return "", errors.New("aliyun sms: no template code")
	case signName == "":
		return "", errors.New("aliyun sms: no sign name")
	}
	params := map[string]string{
		"AccessKeyId":      a.keyID,
		"Action":           aliyunAction,
		"Format":           "JSON",
		"RegionId":         a.region,
		"SignatureMethod":  aliyunSigMethod,
		"SignatureNonce":   a.nonce(),
		"SignatureVersion": aliyunSigVersion,
		"Timestamp":        a.now().UTC().Format(aliyunTimeLayout),
		"Version":          aliyunAPIVersion,
		"PhoneNumbers":     m.To,
		"SignName":         signName,
		"TemplateCode":     m.TemplateCode,
	}
	if len(m.Params) > 0 {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(m.Params); err != nil {
			return "", fmt.Errorf("aliyun sms: template parameters: %v", err)
		}
		params["TemplateParam"] = strings.TrimSuffix(buf.String(), "\n")
	}
	// POST with every parameter in the form body: mobile numbers and template parameters
	// stay out of URLs, and so out of access logs and of Go's *url.Error texts.
	params["Signature"] = aliyunSign(http.MethodPost, params, a.secret)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.endpoint, strings.NewReader(aliyunCanonicalize(params, "")))
	if err != nil {
		return "", fmt.Errorf("aliyun sms: %v", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("aliyun sms: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, aliyunMaxAnswer))
	if err != nil {
		return "", fmt.Errorf("aliyun sms: reading the answer (HTTP %d): %w", resp.StatusCode, err)
	}
	var ans aliyunAnswer
	jsonErr := json.Unmarshal(body, &ans)
	if jsonErr == nil && ans.Code != "" && (ans.Code != "OK" || resp.StatusCode != http.StatusOK) {
		return "", &AliyunError{HTTPStatus: resp.StatusCode, Code: a.clean(ans.Code, m.To), Message: a.clean(ans.Message, m.To),
			RequestID: a.clean(ans.RequestID, m.To)}
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("aliyun sms: HTTP %s", resp.Status)
	}
	if jsonErr != nil || ans.Code == "" {
		return "", fmt.Errorf("aliyun sms: unreadable answer (HTTP %d, %d bytes, %s)", resp.StatusCode, len(body),
			resp.Header.Get("Content-Type"))
	}
	return ans.BizID, nil
}

// clean readies text from the service for an error: the gateway's SignatureDoesNotMatch
// message quotes its whole string-to-sign (the recipient and the template parameters), so
// that part is cut, the recipient and the secret are masked, and the text is shortened.
func (a *Aliyun) clean(s, to string) string {
	if i := strings.Index(strings.ToLower(s), "string to sign"); i >= 0 {
		s = strings.TrimSpace(s[:i]) + " [string to sign omitted]"
	}
	if a.secret != "" {
		s = strings.ReplaceAll(s, a.secret, "[redacted]")
	}
	if to != "" {
		s = strings.ReplaceAll(s, to, "[recipient]")
	}
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > aliyunMaxMessageLen {
		s = string([]rune(s)[:aliyunMaxMessageLen]) + "…"
	}
	return s
}

// aliyunPercentEncode encodes s the way the RPC signature wants (RFC 3986): A–Z, a–z, 0–9,
// '-', '_', '.' and '~' stay; every other byte of the UTF-8 text becomes %XY (upper-case
// hex), so a space is %20, '*' is %2A and '~' is not encoded.
func aliyunPercentEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) * 3)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// aliyunCanonicalize returns params sorted by name, each name and value percent-encoded,
// as name=value joined with '&', leaving out the parameter named skip.
func aliyunCanonicalize(params map[string]string, skip string) string {
	names := make([]string, 0, len(params))
	for name := range params {
		if name != skip {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, name := range names {
		parts[i] = aliyunPercentEncode(name) + "=" + aliyunPercentEncode(params[name])
	}
	return strings.Join(parts, "&")
}

// aliyunStringToSign is method & percentEncode("/") & percentEncode(canonicalized query),
// over every parameter but Signature.
func aliyunStringToSign(method string, params map[string]string) string {
	return method + "&" + aliyunPercentEncode("/") + "&" + aliyunPercentEncode(aliyunCanonicalize(params, "Signature"))
}

// aliyunSign is Base64(HMAC-SHA1(secret + "&", StringToSign)).
func aliyunSign(method string, params map[string]string, secret string) string {
	mac := hmac.New(sha1.New, []byte(secret+"&"))
	mac.Write([]byte(aliyunStringToSign(method, params)))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// randomNonce is a random (version 4) UUID, as the documentation recommends.
func randomNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand, Go 1.24 and later)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
