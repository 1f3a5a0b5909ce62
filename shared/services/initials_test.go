package services

import (
	"strings"
	"testing"

	"github.com/mozillazg/go-pinyin"
)

// The generated table says what go-pinyin says, for every code point of the planes that
// hold Han characters: regenerate it (go generate) when go-pinyin is upgraded.
func TestPinyinInitialsAgreeWithGoPinyin(t *testing.T) {
	args := pinyin.NewArgs()
	args.Style = pinyin.FirstLetter
	for r := rune(0x3000); r < 0x40000; r++ {
		var want byte
		if p := pinyin.SinglePinyin(r, args); len(p) > 0 && p[0] != "" {
			if c := strings.ToUpper(p[0][:1])[0]; c >= 'A' && c <= 'Z' {
				want = c
			}
		}
		if got := pinyinInitial(r); got != want {
			t.Fatalf("U+%04X %c: initial %q, go-pinyin %q; run go generate ./services", r, r, got, want)
		}
	}
}
