// Package sdk is the Go client for vendors integrating with the 晋来办 open platform: it
// signs requests with the appSecret, exchanges single sign-on tickets for access tokens,
// fetches user info, and turns the platform's problem+json answers into typed errors.
//
// A vendor's page receives ?ticket=…&module_callback_code=… when a citizen opens it. Its
// backend then does:
//
//	c := sdk.New("https://open.example.gov.cn", appCode, testSecret, productionSecret)
//	tok, err := c.ExchangeTicket(ctx, ticket)     // once, within minutes
//	info, err := c.UserInfo(ctx, tok)             // then forget the token
//
// Test tickets (prefix "test_") are exchanged with the test secret, others with the
// production secret: the client picks.
package sdk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jinlaiban/openplatform/shared/signature"
)

// Client calls the platform for one application.
type Client struct {
	BaseURL          string // the platform's gateway, e.g. https://open.example.gov.cn
	AppCode          string
	TestSecret       string // the appSecret issued at approval (prefix test_)
	ProductionSecret string // the appSecret issued when the first service went live
	HTTP             *http.Client
	Now              func() time.Time // the clock used to sign; time.Now when nil
}

// New returns a client; pass "" for a secret you do not have yet.
func New(baseURL, appCode, testSecret, productionSecret string) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), AppCode: appCode, TestSecret: testSecret,
		ProductionSecret: productionSecret, HTTP: &http.Client{Timeout: 10 * time.Second}}
}

// Environment tells the environment of a ticket or token by its prefix.
func Environment(ticketOrToken string) string {
	if strings.HasPrefix(ticketOrToken, "test_") {
		return "test"
	}
	return "production"
}

// Token is an access token; use it at once for user info and do not store it.
type Token struct {
	AccessToken        string `json:"access_token"`
	TokenType          string `json:"token_type"`
	ExpiresIn          int    `json:"expires_in"`
	Environment        string `json:"environment"`
	ModuleCode         string `json:"module_code"`
	ModuleCallbackCode string `json:"module_callback_code"`
}

// UserInfo is the citizen as the application may see them; fields beyond the application's
// level are empty.
type UserInfo struct {
	ID           string `json:"id"` // stable for this application, different in every other
	Mobile       string `json:"mobile"`
	IDNumber     string `json:"id_number"`
	FaceImageURL string `json:"face_image_url"` // short-lived
	Level        string `json:"level"`
	Environment  string `json:"environment"`
}

// ExchangeTicket trades a ticket for an access token.
func (c *Client) ExchangeTicket(ctx context.Context, ticket string) (*Token, error) {
	var tok Token
	err := c.Call(ctx, Environment(ticket), http.MethodPost, "/api/v1/sso/token", nil, map[string]string{"ticket": ticket}, &tok)
	if err != nil {
		return nil, err
	}
	return &tok, nil
}

// UserInfo fetches the citizen behind a token.
func (c *Client) UserInfo(ctx context.Context, tok *Token) (*UserInfo, error) {
	var info UserInfo
	err := c.call(ctx, tok.Environment, http.MethodGet, "/api/v1/sso/userinfo", nil, nil, &info,
		http.Header{"Authorization": {"Bearer " + tok.AccessToken}})
	if err != nil {
		return nil, err
	}
	return &info, nil
}

// Call makes any signed call of the OpenAPI in an environment ("test" or "production"):
// body (if not nil) is sent as JSON and the answer decoded into out (if not nil).
func (c *Client) Call(ctx context.Context, env, method, path string, query url.Values, body, out any) error {
	return c.call(ctx, env, method, path, query, body, out, nil)
}

// CallIdempotent is Call with an Idempotency-Key: retrying with the same key returns the
// first result instead of acting twice.
func (c *Client) CallIdempotent(ctx context.Context, env, key, method, path string, body, out any) error {
	return c.call(ctx, env, method, path, nil, body, out, http.Header{"Idempotency-Key": {key}})
}

// env is the environment capability calls are signed for: production once the application
// has a production secret, test before.
func (c *Client) env() string {
	if c.ProductionSecret != "" {
		return "production"
	}
	return "test"
}

// SMS is a templated text message to a citizen of the application (CitizenID, the id
// UserInfo gave) or to a number of the vendor's own staff (Mobile).
type SMS struct {
	TemplateCode string            `json:"template_code"`
	Params       map[string]string `json:"params"`
	CitizenID    string            `json:"citizen_id,omitempty"`
	Mobile       string            `json:"mobile,omitempty"`
}

// SMSResult is the platform's record of a send.
type SMSResult struct {
	ID         string    `json:"id"`
	Status     string    `json:"status"`
	ProviderID string    `json:"provider_id"`
	CreatedAt  time.Time `json:"created_at"`
}

// SendSMS texts a citizen or a number; key makes retries safe (use one per message).
func (c *Client) SendSMS(ctx context.Context, key string, m SMS) (*SMSResult, error) {
	var out SMSResult
	if err := c.CallIdempotent(ctx, c.env(), key, http.MethodPost, "/api/v1/sms/send", m, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Message is an application message for a citizen's in-app inbox.
type Message struct {
	CitizenID string `json:"citizen_id"`
	Title     string `json:"title"`
	Body      string `json:"body"`
	Link      string `json:"link,omitempty"`
}

// Created names what the platform created.
type Created struct {
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"created_at"`
}

// SendMessage puts a message into a citizen's inbox; key makes retries safe.
func (c *Client) SendMessage(ctx context.Context, key string, m Message) (*Created, error) {
	var out Created
	if err := c.CallIdempotent(ctx, c.env(), key, http.MethodPost, "/api/v1/messages", m, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Todo is a to-do item for a citizen, keyed by the vendor's own id (creating it again with
// the same ExternalID is safe).
type Todo struct {
	CitizenID   string     `json:"citizen_id"`
	ExternalID  string     `json:"external_id"`
	Title       string     `json:"title"`
	Description string     `json:"description,omitempty"`
	DueAt       *time.Time `json:"due_at,omitempty"`
	Link        string     `json:"link,omitempty"`
}

// CreateTodo gives a citizen a to-do item.
func (c *Client) CreateTodo(ctx context.Context, t Todo) (*Created, error) {
	var out Created
	if err := c.Call(ctx, c.env(), http.MethodPost, "/api/v1/todos", nil, t, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CompleteTodo marks a to-do item done.
func (c *Client) CompleteTodo(ctx context.Context, externalID string) error {
	return c.Call(ctx, c.env(), http.MethodPost, "/api/v1/todos/"+url.PathEscape(externalID)+"/complete", nil, nil, nil)
}

func (c *Client) call(ctx context.Context, env, method, path string, query url.Values, body, out any, extra http.Header) error {
	secret := c.ProductionSecret
	if env == "test" {
		secret = c.TestSecret
	}
	if secret == "" {
		return fmt.Errorf("sdk: no %s appSecret configured", env)
	}
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return err
		}
	}
	u := c.BaseURL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(raw))
	if err != nil {
		return err
	}
	for k, vs := range extra {
		req.Header[k] = vs
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	now := time.Now()
	if c.Now != nil {
		now = c.Now()
	}
	signature.SignRequest(req, c.AppCode, secret, raw, now)
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		return problem(resp.StatusCode, data)
	}
	if out != nil && len(data) > 0 {
		return json.Unmarshal(data, out)
	}
	return nil
}

// Error is the platform's answer to a call it refused: Code is stable (e.g.
// "signature-mismatch", "invalid-ticket"); Detail says what to do.
type Error struct {
	Status    int
	Code      string
	Detail    string
	RequestID string
	Extra     map[string]any // e.g. string_to_sign for a signature mismatch
}

func (e *Error) Error() string {
	return fmt.Sprintf("open platform: %d %s: %s (request %s)", e.Status, e.Code, e.Detail, e.RequestID)
}

func problem(status int, data []byte) error {
	var m map[string]any
	e := &Error{Status: status, Code: "unknown"}
	if json.Unmarshal(data, &m) == nil {
		if code, _ := m["code"].(string); code != "" { // not a proxy's own JSON error
			e.Code = code
		}
		e.Detail, _ = m["detail"].(string)
		e.RequestID, _ = m["request_id"].(string)
		e.Extra = m
	}
	return e
}

// Code returns the platform's error code of err, or "".
func Code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
