package vendorauth

import (
	"testing"

	"github.com/jinlaiban/openplatform/shared/apps"
	"github.com/jinlaiban/openplatform/shared/seal"
	"github.com/jinlaiban/openplatform/shared/signature"
)

// The verifier's CPU work per request besides the database: opening the application's
// sealed secrets and comparing the signature with each. An application usually has two
// live secrets (test and production); a production call is compared with both in the worst
// case.

func benchCandidates(b *testing.B) (*seal.Sealer, [][]byte, []candidate) {
	b.Helper()
	s, err := seal.New(seal.Config{Key: seal.NewKey()})
	if err != nil {
		b.Fatal(err)
	}
	var sealed [][]byte
	var out []candidate
	for _, env := range []string{apps.EnvTest, apps.EnvProduction} {
		secret := apps.NewSecret(env)
		// Sealed as apps.IssueSecret stores it (purpose "app-secret"), checked by opening below.
		sealed = append(sealed, s.SealString("app-secret", secret))
		out = append(out, candidate{Caller: Caller{AppCode: "f3229547e8c2507e2c59ebffe9ee9f", Environment: env}, secret: secret})
	}
	for i, x := range sealed {
		if got, err := apps.OpenSecret(s, x); err != nil || got != out[i].secret {
			b.Fatalf("the benchmark seals secrets differently from package apps: %v", err)
		}
	}
	return s, sealed, out
}

func BenchmarkMatchSecondOfTwoSecrets(b *testing.B) {
	_, _, cands := benchCandidates(b)
	sts := signature.StringToSign("POST", "/api/v1/sso/token", "", "f3229547e8c2507e2c59ebffe9ee9f", "1700000000",
		"0123456789abcdef0123456789abcdef", []byte(`{"ticket":"tk_5mY8dQ2rX0vJ3nL7pK9sW1zB4cF6hG2tA8eR0uI3oE"}`))
	sig := signature.Sign(cands[1].secret, sts)
	b.ReportAllocs()
	for b.Loop() {
		if c := match(cands, sts, sig); c == nil || c.Environment != apps.EnvProduction {
			b.Fatal("no match")
		}
	}
}

func BenchmarkMatchMismatch(b *testing.B) {
	_, _, cands := benchCandidates(b)
	sts := "JLB1-HMAC-SHA256\nPOST\n/api/v1/sso/token\n\nf3229547e8c2507e2c59ebffe9ee9f\n1700000000\nnonce\n"
	sig := signature.Sign("not-a-secret-of-this-app", sts)
	b.ReportAllocs()
	for b.Loop() {
		if match(cands, sts, sig) != nil {
			b.Fatal("matched a foreign secret")
		}
	}
}

func BenchmarkOpenTwoSecrets(b *testing.B) {
	s, sealed, _ := benchCandidates(b)
	b.ReportAllocs()
	for b.Loop() {
		for _, x := range sealed {
			if _, err := apps.OpenSecret(s, x); err != nil {
				b.Fatal(err)
			}
		}
	}
}
