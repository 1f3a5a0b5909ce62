package auth_test

import (
	"testing"

	"github.com/jinlaiban/openplatform/shared/auth"
)

// Token generation and hashing run on every SSO exchange (one new token, two hashes) and
// every token lookup (one hash). Password hashing is deliberately slow (argon2id); it is
// here so a change of its cost shows.

func BenchmarkNewToken(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = auth.NewToken("at_")
	}
}

func BenchmarkHashToken(b *testing.B) {
	tok := auth.NewToken("at_")
	b.ReportAllocs()
	for b.Loop() {
		_ = auth.HashToken(tok)
	}
}

func BenchmarkHashPassword(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := auth.HashPassword("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckPassword(b *testing.B) {
	h, err := auth.HashPassword("correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !auth.CheckPassword("correct horse battery staple", h) {
			b.Fatal("mismatch")
		}
	}
}
