// Package auth holds the platform's credentials machinery: password hashing, random tokens
// and their hashes, and back-office sessions (cookie or bearer) with CSRF protection.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"sync"
	"unicode/utf8"

	"github.com/alexedwards/argon2id"
)

// PasswordParams are argon2id's cost settings (OWASP's recommended minimum: 19 MiB, 2
// passes). They are stored in each hash, so raising them later keeps old hashes valid.
var PasswordParams = &argon2id.Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// HashPassword hashes a password with argon2id.
func HashPassword(password string) (string, error) {
	return argon2id.CreateHash(password, PasswordParams)
}

// dummyHash lets a sign-in for an unknown login take as long as one for a known login. It
// is made on first use, not at start-up: an argon2id hash costs tens of milliseconds and
// 19 MiB, which every function importing this package would otherwise pay as it starts.
var dummyHash = sync.OnceValue(func() string {
	h, _ := HashPassword("timing equaliser, never a real password")
	return h
})

// CheckPassword reports whether password matches hash. An empty hash compares against a
// dummy, so callers can spend the same time whether or not the account exists.
func CheckPassword(password, hash string) bool {
	if hash == "" {
		_, _ = argon2id.ComparePasswordAndHash(password, dummyHash())
		return false
	}
	ok, err := argon2id.ComparePasswordAndHash(password, hash)
	return err == nil && ok
}

// Password length bounds: long enough to resist guessing, short enough that hashing a
// hostile input stays cheap.
const (
	MinPasswordLen = 10
	MaxPasswordLen = 128
)

// PasswordProblem says what is wrong with a new password, or "" when it is acceptable.
func PasswordProblem(password, login string) string {
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinPasswordLen:
		return "must be at least 10 characters"
	case n > MaxPasswordLen:
		return "must be at most 128 characters"
	case login != "" && password == login:
		return "must not be the login name"
	}
	return ""
}

// NewToken returns prefix + 256 random bits in base64url.
func NewToken(prefix string) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// NewPassword returns a random initial password a person can type (no look-alikes).
func NewPassword() string {
	const alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// HashToken is how tokens are stored: a token is high-entropy, so a plain SHA-256 suffices.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}
