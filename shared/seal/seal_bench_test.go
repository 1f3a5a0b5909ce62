package seal_test

import (
	"testing"

	"github.com/jinlaiban/openplatform/shared/seal"
)

// Envelope encryption per value: Seal makes a data key and seals it under the KEK; Open
// unwraps it. user-info opens two or three values per call and the verifier opens the
// application's secrets on every signed request, so their cost is on the hot paths.

func benchSealer(b *testing.B) *seal.Sealer {
	b.Helper()
	s, err := seal.New(seal.Config{Key: seal.NewKey()})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func BenchmarkSealMobile(b *testing.B) {
	s := benchSealer(b)
	b.ReportAllocs()
	for b.Loop() {
		_ = s.SealString("citizen-mobile", "13800138000")
	}
}

func BenchmarkOpenMobile(b *testing.B) {
	s := benchSealer(b)
	sealed := s.SealString("citizen-mobile", "13800138000")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.OpenString("citizen-mobile", sealed); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen1KiB(b *testing.B) {
	s := benchSealer(b)
	sealed := s.Seal("dev-sms-params", make([]byte, 1024))
	b.SetBytes(1024)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Open("dev-sms-params", sealed); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIndex(b *testing.B) {
	s := benchSealer(b)
	b.ReportAllocs()
	for b.Loop() {
		_ = s.Index("citizen-mobile", "13800138000")
	}
}
