package seal_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/jinlaiban/openplatform/shared/seal"
)

// fuzzKey is fixed so that the corpus (which includes a real sealed value) stays meaningful.
const fuzzKey = "amlubGFpYmFuIGNpdGl6ZW4gc2VydmljZXMga2V5ISE="

// FuzzOpen: bytes from the database or an attacker never make Open panic; they either open
// (only when they are an untouched sealed value) or fail with ErrOpen. Any plaintext sealed
// opens again.
//
// Run: go test -run=^$ -fuzz=FuzzOpen -fuzztime=10s ./seal/
func FuzzOpen(f *testing.F) {
	s, err := seal.New(seal.Config{Key: fuzzKey})
	if err != nil {
		f.Fatal(err)
	}
	valid := s.SealString("app-secret", "s3cr3t")
	f.Add("app-secret", valid)
	f.Add("app-secret", valid[:len(valid)-1])
	f.Add("other", valid)
	f.Add("", []byte{})
	f.Add("p", []byte{1})
	f.Add("p", bytes.Repeat([]byte{1}, 93))
	f.Add("p", append([]byte{1}, valid[1:5]...))
	f.Fuzz(func(t *testing.T, purpose string, data []byte) {
		plain, err := s.Open(purpose, data)
		if err != nil {
			if !errors.Is(err, seal.ErrOpen) || plain != nil {
				t.Fatalf("Open = %q, %v; want nil, ErrOpen", plain, err)
			}
		} else if purpose != "app-secret" || string(plain) != "s3cr3t" {
			// Only the seeded value was ever sealed under fuzzKey (each fuzz worker seals
			// its own copy, so compare what it opens to, not its bytes).
			t.Fatalf("Open accepted forged input %x for %q: %q", data, purpose, plain)
		}

		sealed := s.Seal(purpose, data)
		back, err := s.Open(purpose, sealed)
		if err != nil || !bytes.Equal(back, data) {
			t.Fatalf("round trip of %x for %q = %x, %v", data, purpose, back, err)
		}
	})
}
