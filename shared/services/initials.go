package services

import "sort"

//go:generate go run ./internal/initialsgen

// initialBlock is a run of code points from lo on, one byte each (see initials_table.go).
type initialBlock struct {
	lo       rune
	initials string
}

// pinyinInitial is the upper-case initial of r's first pinyin reading (公 → 'G'), or 0 when
// r has none.
func pinyinInitial(r rune) byte {
	i := sort.Search(len(initialBlocks), func(i int) bool { return initialBlocks[i].lo > r }) - 1
	if i < 0 {
		return 0
	}
	b := initialBlocks[i]
	if off := int(r - b.lo); off < len(b.initials) && b.initials[off] != '.' {
		return b.initials[off]
	}
	return 0
}
