package stack

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jinlaiban/openplatform/shared/citizens"
	"github.com/jinlaiban/openplatform/shared/objstore/bucket"
	"github.com/jinlaiban/openplatform/shared/seal"
)

// TestCitizen is a citizen the local stack puts in the directory, for testers to sign in as.
type TestCitizen struct {
	Mobile, IDNumber, Name, Level string
}

// TestCitizens are seeded on the first start: one per real-name level.
var TestCitizens = []TestCitizen{
	{Mobile: "13800000001", Name: "张三", Level: "basic"},
	{Mobile: "13800000002", IDNumber: "140502199001010011", Name: "李四", Level: "identity"},
	{Mobile: "13800000003", IDNumber: "14050219850505002X", Name: "王五", Level: "real_name"},
}

// seedCitizens fills the citizen directory when it is empty.
func (s *Stack) seedCitizens(ctx context.Context, keyFile string) error {
	key, err := os.ReadFile(keyFile)
	if err != nil {
		return err
	}
	sealer, err := seal.New(seal.Config{Key: strings.TrimSpace(string(key))})
	if err != nil {
		return err
	}
	pool, err := pgxpool.New(ctx, s.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM citizens`).Scan(&n); err != nil || n > 0 {
		return err
	}
	store, err := bucket.New(s.S3)
	if err != nil {
		return err
	}
	for _, tc := range TestCitizens {
		c := citizens.Citizen{Mobile: tc.Mobile, IDNumber: tc.IDNumber, Name: tc.Name, RealNameLevel: tc.Level}
		if tc.Level == "real_name" {
			c.FaceImageKey = "citizens/faces/" + tc.Mobile[7:] + ".png"
			if err := store.Put(ctx, c.FaceImageKey, "image/png", facePNG()); err != nil {
				return err
			}
		}
		if _, err := citizens.Create(ctx, pool, sealer, c); err != nil {
			return err
		}
	}
	s.say("seeded %d test citizens (mobiles %s, %s, %s)", len(TestCitizens), TestCitizens[0].Mobile, TestCitizens[1].Mobile, TestCitizens[2].Mobile)
	return nil
}

// facePNG draws a placeholder face image.
func facePNG() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 64, 64))
	for y := 0; y < 64; y++ {
		for x := 0; x < 64; x++ {
			dx, dy := x-32, y-32
			if dx*dx+dy*dy < 28*28 {
				img.Set(x, y, color.RGBA{0xf2, 0xc9, 0x9e, 0xff})
			} else {
				img.Set(x, y, color.RGBA{0xe8, 0xee, 0xf4, 0xff})
			}
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}
