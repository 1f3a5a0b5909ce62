// Package sms sends text messages through a provider chosen by configuration: the
// development provider, which records messages where developers and the super-app
// simulator can read them, or a real SMS service.
package sms

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/seal"
)

// Message is one text message from a template.
type Message struct {
	To           string            // mainland mobile number
	SignName     string            // the signature shown to the recipient, e.g. 晋来办
	TemplateCode string            // the provider's template
	Params       map[string]string // the template's parameters
}

// Provider sends messages.
type Provider interface {
	// Send hands a message to the provider and returns the provider's id for it.
	Send(ctx context.Context, m Message) (string, error)
}

// Config chooses the provider. SMS_PROVIDER has no default: a deployment says which
// (dev or aliyun). The ALIYUN_ settings are for SMS_PROVIDER=aliyun and required only then;
// New names a missing one.
type Config struct {
	Provider string `envconfig:"SMS_PROVIDER" required:"true"`
	SignName string `envconfig:"SMS_SIGN_NAME" default:"晋来办"`

	// Alibaba Cloud SMS (dysmsapi SendSms). The AccessKey pair may also come from
	// <VAR>_FILE or the OpenFaaS secrets aliyun-access-key-id and aliyun-access-key-secret.
	AliyunEndpoint        string `envconfig:"ALIYUN_SMS_ENDPOINT" default:"https://dysmsapi.aliyuncs.com/"`
	AliyunRegion          string `envconfig:"ALIYUN_SMS_REGION" default:"cn-hangzhou"`
	AliyunAccessKeyID     string `envconfig:"ALIYUN_ACCESS_KEY_ID" secret:"aliyun-access-key-id"`
	AliyunAccessKeySecret string `envconfig:"ALIYUN_ACCESS_KEY_SECRET" secret:"aliyun-access-key-secret"`
}

// New returns the configured provider.
func New(cfg Config, q db.Querier, s *seal.Sealer) (Provider, error) {
	switch cfg.Provider {
	case "dev":
		return &Dev{DB: q, Sealer: s}, nil
	case "aliyun":
		a, err := newAliyunFromConfig(cfg)
		if err != nil {
			return nil, err
		}
		return a, nil
	}
	return nil, fmt.Errorf("SMS_PROVIDER: invalid value %q (want dev or aliyun)", cfg.Provider)
}

// Dev is the development provider: it records each message in the dev_sms table.
type Dev struct {
	DB     db.Querier
	Sealer *seal.Sealer
}

const (
	devMobilePurpose = "dev-sms-mobile"
	devParamsPurpose = "dev-sms-params"
)

// Send records m.
func (d *Dev) Send(ctx context.Context, m Message) (string, error) {
	params, err := json.Marshal(m.Params)
	if err != nil {
		return "", err
	}
	var id string
	err = d.DB.QueryRow(ctx, `INSERT INTO dev_sms (to_index, to_mobile, sign_name, template_code, params) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		d.Sealer.Index(devMobilePurpose, m.To), d.Sealer.Seal(devMobilePurpose, []byte(m.To)), m.SignName, m.TemplateCode,
		d.Sealer.Seal(devParamsPurpose, params)).Scan(&id)
	return "dev-" + id, err
}

// DevMessage is a message the development provider recorded.
type DevMessage struct {
	ID           string            `json:"id"`
	SignName     string            `json:"sign_name"`
	TemplateCode string            `json:"template_code"`
	Params       map[string]string `json:"params"`
	CreatedAt    time.Time         `json:"created_at"`
}

// DevInbox lists the newest messages the development provider recorded for a number.
func DevInbox(ctx context.Context, q db.Querier, s *seal.Sealer, mobile string, limit int) ([]DevMessage, error) {
	rows, err := q.Query(ctx, `SELECT id, sign_name, template_code, params, created_at FROM dev_sms WHERE to_index = $1
		ORDER BY created_at DESC, id LIMIT $2`, s.Index(devMobilePurpose, mobile), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []DevMessage{}
	for rows.Next() {
		var m DevMessage
		var sealed []byte
		if err := rows.Scan(&m.ID, &m.SignName, &m.TemplateCode, &sealed, &m.CreatedAt); err != nil {
			return nil, err
		}
		plain, err := s.Open(devParamsPurpose, sealed)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(plain, &m.Params); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}
