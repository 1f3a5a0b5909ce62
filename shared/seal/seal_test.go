package seal_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/jinlaiban/openplatform/shared/seal"
)

func newSealer(t *testing.T, key string, oldKeys ...string) *seal.Sealer {
	t.Helper()
	s, err := seal.New(seal.Config{Key: key, OldKeys: strings.Join(oldKeys, ",")})
	if err != nil {
		t.Fatalf("seal.New: %v", err)
	}
	return s
}

const idCard = "110101199003071234"

func TestSealedIDCardNumberOpensAgain(t *testing.T) {
	t.Parallel()
	s := newSealer(t, seal.NewKey())
	for _, plain := range []string{idCard, "", "张三 · 上海市徐汇区", strings.Repeat("x", 10000)} {
		sealed := s.SealString("citizen-id-card", plain)
		if want := 1 + 4 + 12 + 48 + 12 + len(plain) + 16; len(sealed) != want {
			t.Errorf("sealed length = %d, want %d (documented layout)", len(sealed), want)
		}
		got, err := s.OpenString("citizen-id-card", sealed)
		if err != nil || got != plain {
			t.Fatalf("OpenString = %q, %v; want %q", got, err, plain)
		}
	}
}

func TestSealedValueOpensOnlyForItsPurpose(t *testing.T) {
	t.Parallel()
	s := newSealer(t, seal.NewKey())
	sealed := s.SealString("app-secret", "s3cr3t")
	for _, other := range []string{"citizen-mobile", "", "app-secret ", "App-Secret"} {
		got, err := s.Open(other, sealed)
		if !errors.Is(err, seal.ErrOpen) || got != nil {
			t.Errorf("Open for %q = %q, %v; want ErrOpen", other, got, err)
		}
	}
}

func TestTamperingWithAnyByteIsDetected(t *testing.T) {
	t.Parallel()
	s := newSealer(t, seal.NewKey())
	sealed := s.SealString("citizen-id-card", idCard)
	for i := range sealed {
		for _, flip := range []byte{0x01, 0x80} {
			bad := bytes.Clone(sealed)
			bad[i] ^= flip
			if got, err := s.Open("citizen-id-card", bad); !errors.Is(err, seal.ErrOpen) || got != nil {
				t.Fatalf("flipping bit %#x of byte %d: Open = %q, %v; want ErrOpen", flip, i, got, err)
			}
		}
	}
	for n := 0; n < len(sealed); n++ {
		if _, err := s.Open("citizen-id-card", sealed[:n]); !errors.Is(err, seal.ErrOpen) {
			t.Fatalf("truncated to %d bytes: %v, want ErrOpen", n, err)
		}
	}
	if _, err := s.Open("citizen-id-card", append(bytes.Clone(sealed), 0)); !errors.Is(err, seal.ErrOpen) {
		t.Fatalf("extended by a byte: %v, want ErrOpen", err)
	}
	if _, err := s.Open("citizen-id-card", nil); !errors.Is(err, seal.ErrOpen) {
		t.Fatalf("nil: %v, want ErrOpen", err)
	}
}

func TestSealingTheSameValueTwiceGivesDifferentCiphertexts(t *testing.T) {
	t.Parallel()
	s := newSealer(t, seal.NewKey())
	a := s.SealString("citizen-mobile", "13800138000")
	b := s.SealString("citizen-mobile", "13800138000")
	if bytes.Equal(a, b) {
		t.Fatal("two seals of one mobile number are equal: equal values would be visible in the database")
	}
	if bytes.Equal(a[5:17], b[5:17]) || bytes.Equal(a[65:77], b[65:77]) {
		t.Fatal("nonces repeat")
	}
}

func TestCiphertextDoesNotRevealThePlaintext(t *testing.T) {
	t.Parallel()
	s := newSealer(t, seal.NewKey())
	plain := []byte(strings.Repeat(idCard, 4))
	sealed := s.Seal("citizen-id-card", plain)
	for _, part := range [][]byte{plain, []byte(idCard), []byte(idCard[:8]), []byte(base64.StdEncoding.EncodeToString([]byte(idCard)))} {
		if bytes.Contains(sealed, part) {
			t.Fatalf("sealed value contains %q", part)
		}
	}
}

func TestRotatedKeyStillOpensOldValuesWhenListed(t *testing.T) {
	t.Parallel()
	oldKey, newKey := seal.NewKey(), seal.NewKey()
	before := newSealer(t, oldKey).SealString("app-secret", "issued-last-year")

	after := newSealer(t, newKey, seal.NewKey(), " "+oldKey+" ", "")
	if got, err := after.OpenString("app-secret", before); err != nil || got != "issued-last-year" {
		t.Fatalf("with the old key in SEAL_OLD_KEYS: %q, %v", got, err)
	}
	fresh := after.SealString("app-secret", "issued-today")
	if !bytes.Equal(fresh[1:5], newSealer(t, newKey).SealString("x", "")[1:5]) {
		t.Fatal("new values are not sealed with the active key")
	}

	forgotten := newSealer(t, newKey)
	_, err := forgotten.Open("app-secret", before)
	if !errors.Is(err, seal.ErrOpen) || !strings.Contains(err.Error(), "SEAL_OLD_KEYS") {
		t.Fatalf("without the old key: %v, want ErrOpen mentioning SEAL_OLD_KEYS", err)
	}
	if _, err := newSealer(t, oldKey).Open("app-secret", fresh); !errors.Is(err, seal.ErrOpen) {
		t.Fatalf("the old key opened a value sealed with the new one: %v", err)
	}
}

func TestBadKeyConfigurationNamesTheVariable(t *testing.T) {
	t.Parallel()
	good := seal.NewKey()
	short := base64.StdEncoding.EncodeToString(make([]byte, 16))
	long := base64.StdEncoding.EncodeToString(make([]byte, 33))
	urlSafe := base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32))
	cases := []struct {
		name string
		cfg  seal.Config
		want string
	}{
		{"missing", seal.Config{}, "SEAL_KEY"},
		{"not base64", seal.Config{Key: "this is not base64 at all!!"}, "SEAL_KEY"},
		{"16 bytes", seal.Config{Key: short}, "SEAL_KEY"},
		{"33 bytes", seal.Config{Key: long}, "SEAL_KEY"},
		{"URL alphabet", seal.Config{Key: urlSafe}, "SEAL_KEY"},
		{"bad old key", seal.Config{Key: good, OldKeys: good + ",short"}, "SEAL_OLD_KEYS"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := seal.New(tc.cfg)
			if err == nil || s != nil || !strings.HasPrefix(err.Error(), tc.want+":") {
				t.Fatalf("New = %v, %v; want an error naming %s", s, err, tc.want)
			}
			if strings.Contains(err.Error(), good) {
				t.Fatal("the error repeats the key")
			}
		})
	}
}

func TestNewKeyIs32RandomBytes(t *testing.T) {
	t.Parallel()
	a, b := seal.NewKey(), seal.NewKey()
	raw, err := base64.StdEncoding.DecodeString(a)
	if err != nil || len(raw) != 32 || a == b {
		t.Fatalf("NewKey = %q (%d bytes, %v), second %q", a, len(raw), err, b)
	}
}

func TestBlindIndexIsDeterministicPerPurposeAndKey(t *testing.T) {
	t.Parallel()
	key := seal.NewKey()
	s := newSealer(t, key)
	a := s.Index("citizen-mobile", "13800138000")
	if len(a) != 32 {
		t.Fatalf("index is %d bytes, want 32", len(a))
	}
	if !bytes.Equal(a, newSealer(t, key).Index("citizen-mobile", "13800138000")) {
		t.Fatal("the same value indexes differently under the same key")
	}
	if bytes.Equal(a, s.Index("citizen-mobile", "13800138001")) {
		t.Fatal("different values share an index")
	}
	if bytes.Equal(a, s.Index("vendor-mobile", "13800138000")) {
		t.Fatal("the index does not depend on the purpose")
	}
	if bytes.Equal(a, newSealer(t, seal.NewKey()).Index("citizen-mobile", "13800138000")) {
		t.Fatal("the index does not depend on the key")
	}
	// The purpose and value are separated: moving a byte across the boundary changes the index.
	if bytes.Equal(s.Index("ab", "c"), s.Index("a", "bc")) {
		t.Fatal("purpose/value boundary is ambiguous")
	}
	if bytes.Contains(a, []byte("13800138000")) {
		t.Fatal("index contains the value")
	}
}

func TestBlindIndexKeyIsTheConfiguredKeyEvenWithSurroundingSpace(t *testing.T) {
	t.Parallel()
	key := seal.NewKey()
	want := newSealer(t, key).Index("citizen-mobile", "13800138000")
	for _, padded := range []string{" " + key, key + " ", "\t" + key + "\n", "\n" + key} {
		s := newSealer(t, padded) // accepted: the KEK is trimmed
		if got := s.Index("citizen-mobile", "13800138000"); !bytes.Equal(got, want) {
			t.Fatalf("SEAL_KEY %q gives another blind index than the trimmed key", padded)
		}
		if got, err := newSealer(t, key).OpenString("p", s.SealString("p", "v")); err != nil || got != "v" {
			t.Fatalf("padded and trimmed key disagree: %q, %v", got, err)
		}
	}
	// Two different padded keys must not collapse to one (e.g. empty) index key.
	a := newSealer(t, " "+seal.NewKey()).Index("citizen-mobile", "13800138000")
	b := newSealer(t, " "+seal.NewKey()).Index("citizen-mobile", "13800138000")
	if bytes.Equal(a, b) {
		t.Fatal("two different padded keys give the same blind index: the index key is not secret")
	}
}

func TestSealerIsSafeForConcurrentUse(t *testing.T) {
	t.Parallel()
	s := newSealer(t, seal.NewKey())
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				if _, err := s.Open("p", s.SealString("p", idCard)); err != nil {
					errs <- err
					return
				}
				s.Index("p", idCard)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
