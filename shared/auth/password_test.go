package auth_test

import (
	"bytes"
	"encoding/base64"
	"regexp"
	"strings"
	"testing"

	"github.com/jinlaiban/openplatform/shared/auth"
)

var phc = regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestPasswordHashIsAnArgon2idPHCStringWithOWASPCosts(t *testing.T) {
	t.Parallel()
	h, err := auth.HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !phc.MatchString(h) {
		t.Fatalf("hash %q is not argon2id m=19456,t=2,p=1 with a 16-byte salt and 32-byte key", h)
	}
	if strings.Contains(h, "correct horse") {
		t.Fatal("hash contains the password")
	}
}

func TestSamePasswordHashesDifferently(t *testing.T) {
	t.Parallel()
	a, _ := auth.HashPassword("Vendor-Passw0rd")
	b, _ := auth.HashPassword("Vendor-Passw0rd")
	if a == b {
		t.Fatal("two hashes of one password are equal: no per-hash salt")
	}
	if !auth.CheckPassword("Vendor-Passw0rd", a) || !auth.CheckPassword("Vendor-Passw0rd", b) {
		t.Fatal("a salted hash does not verify")
	}
}

func TestCheckPasswordAcceptsOnlyTheRightPassword(t *testing.T) {
	t.Parallel()
	h, err := auth.HashPassword("上海市民服务2024!")
	if err != nil {
		t.Fatal(err)
	}
	if !auth.CheckPassword("上海市民服务2024!", h) {
		t.Fatal("the right password was refused")
	}
	for _, wrong := range []string{"上海市民服务2024", "上海市民服务2024!!", "", " 上海市民服务2024!"} {
		if auth.CheckPassword(wrong, h) {
			t.Errorf("wrong password %q accepted", wrong)
		}
	}
}

func TestCheckPasswordRefusesWithoutAStoredHash(t *testing.T) {
	t.Parallel()
	for _, hash := range []string{"", "not-a-hash", "$argon2id$v=19$m=19456,t=2,p=1$bad", "$2a$10$abcdefghijklmnopqrstuu"} {
		if auth.CheckPassword("timing equaliser, never a real password", hash) {
			t.Errorf("CheckPassword against %q = true", hash)
		}
		if auth.CheckPassword("", hash) {
			t.Errorf("empty password against %q = true", hash)
		}
	}
}

func TestPasswordProblemBounds(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, password, login, want string
	}{
		{"9 characters", "abcdefghi", "vendor1", "must be at least 10 characters"},
		{"10 characters", "abcdefghij", "vendor1", ""},
		{"10 Chinese characters (30 bytes)", "市民服务热线一二三四", "vendor1", ""},
		{"9 Chinese characters (27 bytes)", "市民服务热线一二三", "vendor1", "must be at least 10 characters"},
		{"128 characters", strings.Repeat("a", 128), "vendor1", ""},
		{"129 characters", strings.Repeat("a", 129), "vendor1", "must be at most 128 characters"},
		{"equal to the login", "vendor.shanghai", "vendor.shanghai", "must not be the login name"},
		{"no login given", "vendor.shanghai", "", ""},
		{"empty", "", "vendor1", "must be at least 10 characters"},
	}
	for _, tc := range cases {
		if got := auth.PasswordProblem(tc.password, tc.login); got != tc.want {
			t.Errorf("%s: PasswordProblem = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestNewTokenIsPrefixedAndCarries256RandomBits(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		tok := auth.NewToken("jlb_sk_")
		rest, ok := strings.CutPrefix(tok, "jlb_sk_")
		if !ok || len(rest) != 43 {
			t.Fatalf("token %q: want prefix jlb_sk_ and 43 base64url characters", tok)
		}
		raw, err := base64.RawURLEncoding.DecodeString(rest)
		if err != nil || len(raw) != 32 {
			t.Fatalf("token %q does not carry 32 bytes of base64url (%v)", tok, err)
		}
		if seen[tok] {
			t.Fatalf("token %q issued twice", tok)
		}
		seen[tok] = true
	}
	if tok := auth.NewToken(""); len(tok) != 43 {
		t.Fatalf("unprefixed token %q", tok)
	}
}

func TestHashTokenIsADeterministicSHA256(t *testing.T) {
	t.Parallel()
	tok := auth.NewToken("jlb_sess_")
	a, b := auth.HashToken(tok), auth.HashToken(tok)
	if len(a) != 32 || !bytes.Equal(a, b) {
		t.Fatalf("HashToken = %x / %x: want the same 32 bytes twice", a, b)
	}
	if bytes.Equal(a, auth.HashToken(tok+"x")) {
		t.Fatal("different tokens hash alike")
	}
	// The SHA-256 test vector for "abc".
	want := "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	if got := auth.HashToken("abc"); base16(got) != want {
		t.Fatalf("HashToken(abc) = %x, want SHA-256 %s", got, want)
	}
}

func base16(b []byte) string {
	const hex = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, hex[c>>4], hex[c&15])
	}
	return string(out)
}

func TestNewPasswordIsSixteenUnambiguousCharacters(t *testing.T) {
	t.Parallel()
	const alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"
	used := map[rune]int{}
	seen := map[string]bool{}
	for i := 0; i < 2000; i++ {
		p := auth.NewPassword()
		if len(p) != 16 {
			t.Fatalf("NewPassword = %q, want 16 characters", p)
		}
		if strings.ContainsAny(p, "0O1lIio") {
			t.Fatalf("NewPassword = %q contains a look-alike character", p)
		}
		for _, c := range p {
			if !strings.ContainsRune(alphabet, c) {
				t.Fatalf("NewPassword = %q contains %q outside the alphabet", p, c)
			}
			used[c]++
		}
		if seen[p] {
			t.Fatalf("NewPassword repeated %q", p)
		}
		seen[p] = true
		if auth.PasswordProblem(p, "vendor1") != "" {
			t.Fatalf("a generated password fails the password rules: %q", p)
		}
	}
	if len(used) != len(alphabet) {
		t.Fatalf("only %d of %d alphabet characters appeared in 32000 draws", len(used), len(alphabet))
	}
}
