package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jinlaiban/openplatform/shared/sdk"
	"github.com/jinlaiban/openplatform/shared/signature"
)

// An operation is one hot path: how to make its requests and what its ceiling runs.
type operation struct {
	Name     string // as reported
	Function string // the function serving it
	Want     int    // the status of success
	// prepare readies fixtures for c workers sending up to perWorker requests each, and
	// returns the source of requests to base (a function's or the gateway's address).
	prepare func(ctx context.Context, h *harness, base string, c, perWorker int) (Source, error)
	ceiling ceilingSpec
	// consumes says whether each request uses up a prepared fixture (an SSO ticket).
	consumes bool
}

func operations() []*operation {
	return []*operation{
		{Name: "sso-exchange", Function: "sso-exchange", Want: http.StatusOK, prepare: prepareExchange, ceiling: exchangeCeiling, consumes: true},
		{Name: "user-info", Function: "user-info", Want: http.StatusOK, prepare: prepareUserInfo, ceiling: userInfoCeiling},
		{Name: "send-sms", Function: "send-sms", Want: http.StatusCreated, prepare: prepareSMS, ceiling: smsCeiling},
		{Name: "send-message", Function: "send-message", Want: http.StatusCreated, prepare: prepareMessage, ceiling: messageCeiling},
		{Name: "todo-create", Function: "todo", Want: http.StatusCreated, prepare: prepareTodo, ceiling: todoCeiling},
	}
}

// signed builds a request signed with the application's production secret, as the SDK
// signs it (shared/signature).
func signed(method, url string, body []byte, a *benchApp, header http.Header) *http.Request {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		panic(err) // the harness's own URLs
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	signature.SignRequest(req, a.Code, a.ProdSecret, body, time.Now())
	return req
}

func randomKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// appFor is the application of worker w's n-th request: spread over all of them, the
// same way the ceiling scripts spread their transactions.
func (f *fixture) appFor(w, n int) *benchApp { return f.apps[(w*spread+n)%len(f.apps)] }

// ---- sso-exchange: a signed exchange of one fresh ticket per request ----------------------

func prepareExchange(ctx context.Context, h *harness, base string, c, perWorker int) (Source, error) {
	all, err := h.fx.issueTickets(ctx, c*perWorker, func(k int) *benchApp { return h.fx.appFor(k/perWorker, k%perWorker) })
	if err != nil {
		return nil, err
	}
	next := make([]int, c)
	return func(w int) (*http.Request, bool) {
		n := next[w]
		if n >= perWorker {
			return nil, false
		}
		next[w]++
		t := all[w*perWorker+n]
		body, _ := json.Marshal(map[string]string{"ticket": t.Ticket})
		return signed("POST", base+"/api/v1/sso/token", body, t.App, nil), true
	}, nil
}

// ---- user-info: a signed read with a valid token ------------------------------------------

// userInfoTokens holds one valid access token per application, got by real exchanges; they
// are renewed when they may have expired (ACCESS_TOKEN_TTL, 5 minutes by default).
type userInfoTokens struct {
	mu     sync.Mutex
	tokens []string
	at     time.Time
}

func (u *userInfoTokens) get(ctx context.Context, h *harness) ([]string, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.tokens != nil && time.Since(u.at) < 3*time.Minute {
		return u.tokens, nil
	}
	fx := h.fx
	tickets, err := fx.issueTickets(ctx, len(fx.apps), func(k int) *benchApp { return fx.apps[k] })
	if err != nil {
		return nil, err
	}
	tokens := make([]string, len(fx.apps))
	base := h.stack.Functions["sso-exchange"].URL
	client := newClient(4)
	defer client.CloseIdleConnections()
	err = parallel(ctx, len(tickets), 4, func(i int) error {
		t := tickets[i]
		body, _ := json.Marshal(map[string]string{"ticket": t.Ticket})
		resp, err := client.Do(signed("POST", base+"/api/v1/sso/token", body, t.App, nil).WithContext(ctx))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var tok sdk.Token
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("exchange for a user-info token: status %d", resp.StatusCode)
		}
		if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil {
			return err
		}
		tokens[i] = tok.AccessToken
		return nil
	})
	if err != nil {
		return nil, err
	}
	u.tokens, u.at = tokens, time.Now()
	return tokens, nil
}

func prepareUserInfo(ctx context.Context, h *harness, base string, c, _ int) (Source, error) {
	tokens, err := h.uiTokens.get(ctx, h)
	if err != nil {
		return nil, err
	}
	next := make([]int, c)
	return func(w int) (*http.Request, bool) {
		n := next[w]
		next[w]++
		a := h.fx.appFor(w, n)
		return signed("GET", base+"/api/v1/sso/userinfo", nil, a, http.Header{"Authorization": {"Bearer " + tokens[a.Idx]}}), true
	}, nil
}

// ---- capabilities: SMS, application message, to-do ----------------------------------------

// recipient is the k-th (application, citizen, template) of the run. Successive requests
// never repeat a combination until every one was used, so the per-number SMS limits (one a
// minute per application, template and number) are not what is measured.
func (f *fixture) recipient(k int) (a *benchApp, pairwise, template string) {
	a = f.apps[k%len(f.apps)]
	j := (k / len(f.apps)) % f.pairs
	t := (k / (len(f.apps) * f.pairs)) % len(f.templates)
	return a, a.Pairwise[j], f.templates[t]
}

func prepareSMS(ctx context.Context, h *harness, base string, c, _ int) (Source, error) {
	return func(w int) (*http.Request, bool) {
		a, pw, tpl := h.fx.recipient(int(h.smsSeq.Add(1)))
		body, _ := json.Marshal(sdk.SMS{TemplateCode: tpl, CitizenID: pw, Params: map[string]string{"service": "公积金提取", "status": "已受理"}})
		return signed("POST", base+"/api/v1/sms/send", body, a, http.Header{"Idempotency-Key": {randomKey()}}), true
	}, nil
}

func prepareMessage(ctx context.Context, h *harness, base string, c, _ int) (Source, error) {
	return func(w int) (*http.Request, bool) {
		a, pw, _ := h.fx.recipient(int(h.msgSeq.Add(1)))
		body, _ := json.Marshal(sdk.Message{CitizenID: pw, Title: "公积金提取已受理", Body: "您的住房公积金提取申请已受理，预计3个工作日内办结，办结后资金将转入您的银行卡。",
			Link: "https://gjj.example.cn/progress/2024"})
		return signed("POST", base+"/api/v1/messages", body, a, http.Header{"Idempotency-Key": {randomKey()}}), true
	}, nil
}

func prepareTodo(ctx context.Context, h *harness, base string, c, _ int) (Source, error) {
	return func(w int) (*http.Request, bool) {
		a, pw, _ := h.fx.recipient(int(h.todoSeq.Add(1)))
		due := time.Now().Add(7 * 24 * time.Hour).Truncate(time.Second)
		body, _ := json.Marshal(sdk.Todo{CitizenID: pw, ExternalID: "gjj-" + randomKey(), Title: "补充提交租房合同",
			Description: "请在截止日期前上传租房合同扫描件，以便完成公积金提取审核。", DueAt: &due, Link: "https://gjj.example.cn/todo/upload"})
		return signed("POST", base+"/api/v1/todos", body, a, nil), true
	}, nil
}

// counters of the capability requests, kept over the whole run.
type sequences struct{ smsSeq, msgSeq, todoSeq atomic.Int64 }
