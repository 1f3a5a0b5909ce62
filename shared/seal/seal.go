// Package seal encrypts secrets and personal data at rest with envelope encryption: each
// value gets its own data key, and the data key is sealed by a key-encryption key (KEK)
// that comes from a secret, never from the database. It also computes blind indexes
// (keyed hashes) for values that must be looked up without being decrypted.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// Config names the keys. SEAL_KEY is the active KEK (32 random bytes, base64); SEAL_OLD_KEYS
// lists retired KEKs still needed to open older values (comma-separated), so the KEK can
// be rotated without rewriting every row at once.
type Config struct {
	Key     string `envconfig:"SEAL_KEY" secret:"seal-key,required"`
	OldKeys string `envconfig:"SEAL_OLD_KEYS" secret:"seal-old-keys"`
	// IndexKey keys the blind indexes. It defaults to SEAL_KEY; when SEAL_KEY is rotated,
	// set it to the key the indexes were made with, or every lookup by index misses.
	IndexKey string `envconfig:"SEAL_INDEX_KEY" secret:"seal-index-key"`
}

// Sealer seals and opens values. It is safe for concurrent use.
type Sealer struct {
	active  kek
	byID    map[[4]byte]kek
	indexKy []byte
}

type kek struct {
	id   [4]byte
	aead cipher.AEAD
}

const version byte = 1

// ErrOpen means a sealed value could not be opened: wrong key, wrong purpose, or tampering.
var ErrOpen = errors.New("seal: cannot open value")

// New builds a Sealer from the configured keys.
func New(cfg Config) (*Sealer, error) {
	active, err := parseKEK("SEAL_KEY", cfg.Key)
	if err != nil {
		return nil, err
	}
	s := &Sealer{active: active, byID: map[[4]byte]kek{active.id: active}}
	for _, old := range strings.Split(cfg.OldKeys, ",") {
		if old = strings.TrimSpace(old); old == "" {
			continue
		}
		k, err := parseKEK("SEAL_OLD_KEYS", old)
		if err != nil {
			return nil, err
		}
		s.byID[k.id] = k
	}
	indexSource := cfg.Key
	if cfg.IndexKey != "" {
		if _, err := parseKEK("SEAL_INDEX_KEY", cfg.IndexKey); err != nil {
			return nil, err
		}
		indexSource = cfg.IndexKey
	}
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(indexSource)) // as parseKEK read it
	s.indexKy, err = hkdf.Key(sha256.New, raw, nil, "jinlaiban blind index v1", 32)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// NewKey returns a fresh KEK in the form SEAL_KEY expects.
func NewKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

func parseKEK(name, v string) (kek, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
	if err != nil || len(raw) != 32 {
		return kek{}, fmt.Errorf("%s: want 32 random bytes in standard base64 (e.g. `openssl rand -base64 32`)", name)
	}
	block, _ := aes.NewCipher(raw)
	aead, _ := cipher.NewGCM(block)
	sum := sha256.Sum256(raw)
	var k kek
	copy(k.id[:], sum[:4])
	k.aead = aead
	return k, nil
}

// Seal encrypts plaintext. purpose (e.g. "app-secret") is bound to the ciphertext, so a
// value cannot be moved to another column and opened there.
//
// Layout: version | KEK id (4) | nonce (12) | sealed data key (48) | nonce (12) | ciphertext.
func (s *Sealer) Seal(purpose string, plaintext []byte) []byte {
	dek := make([]byte, 32)
	_, _ = rand.Read(dek)
	block, _ := aes.NewCipher(dek)
	data, _ := cipher.NewGCM(block)

	out := make([]byte, 0, 1+4+12+48+12+len(plaintext)+16)
	out = append(out, version)
	out = append(out, s.active.id[:]...)
	n1 := randomNonce()
	out = append(out, n1...)
	out = s.active.aead.Seal(out, n1, dek, []byte(purpose))
	n2 := randomNonce()
	out = append(out, n2...)
	out = data.Seal(out, n2, plaintext, []byte(purpose))
	return out
}

// SealString is Seal for text.
func (s *Sealer) SealString(purpose, plaintext string) []byte {
	return s.Seal(purpose, []byte(plaintext))
}

// Open decrypts a value sealed for purpose.
func (s *Sealer) Open(purpose string, sealed []byte) ([]byte, error) {
	if len(sealed) < 1+4+12+48+12+16 || sealed[0] != version {
		return nil, ErrOpen
	}
	var id [4]byte
	copy(id[:], sealed[1:5])
	k, ok := s.byID[id]
	if !ok {
		return nil, fmt.Errorf("%w: sealed with an unknown key (add it to SEAL_OLD_KEYS)", ErrOpen)
	}
	rest := sealed[5:]
	dek, err := k.aead.Open(nil, rest[:12], rest[12:60], []byte(purpose))
	if err != nil {
		return nil, ErrOpen
	}
	block, _ := aes.NewCipher(dek)
	data, _ := cipher.NewGCM(block)
	plain, err := data.Open(nil, rest[60:72], rest[72:], []byte(purpose))
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}

// OpenString is Open for text.
func (s *Sealer) OpenString(purpose string, sealed []byte) (string, error) {
	b, err := s.Open(purpose, sealed)
	return string(b), err
}

// Index returns a blind index of value for purpose: equal inputs give equal outputs, and
// nothing about the value can be learned without the key.
func (s *Sealer) Index(purpose, value string) []byte {
	m := hmac.New(sha256.New, s.indexKy)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return m.Sum(nil)
}

func randomNonce() []byte {
	n := make([]byte, 12)
	_, _ = rand.Read(n)
	return n
}
