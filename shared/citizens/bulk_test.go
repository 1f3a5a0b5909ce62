package citizens_test

import (
	"context"
	"testing"

	"github.com/jinlaiban/openplatform/shared/citizens"
	"github.com/jinlaiban/openplatform/shared/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestCreateManyStoresCitizensAsCreateDoes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, sealer := testenv.Pool(t), testenv.Sealer(t)
	want := []citizens.Citizen{
		{Mobile: "13800000011", Name: "张三"},
		{Mobile: "13800000012", IDNumber: "140502199001010011", Name: "李四", RealNameLevel: "identity"},
		{Mobile: "13800000013", IDNumber: "14050219850505002X", Name: "王五", RealNameLevel: "real_name", FaceImageKey: "citizens/faces/0013.png"},
		{ID: "6f1c2b9e-3d4a-4b8c-9e7f-0a1b2c3d4e5f", Mobile: "13800000014"},
	}
	ids, err := citizens.CreateMany(ctx, pool, sealer, want)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != len(want) || ids[3] != want[3].ID {
		t.Fatalf("ids = %v; want one per citizen, keeping a given id", ids)
	}
	one, err := citizens.Create(ctx, pool, sealer, citizens.Citizen{Mobile: "13800000015", IDNumber: "140502199202020022"})
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range append(want, one) {
		id := one.ID
		if i < len(ids) {
			id = ids[i]
		}
		got, err := citizens.Get(ctx, pool, sealer, id)
		if err != nil {
			t.Fatalf("citizen %d: %v", i, err)
		}
		if w.RealNameLevel == "" {
			w.RealNameLevel = "basic"
		}
		w.ID = id
		if got != w {
			t.Errorf("citizen %d = %+v, want %+v", i, got, w)
		}
		byMobile, err := citizens.IDByMobile(ctx, pool, sealer, w.Mobile)
		if err != nil || byMobile != id {
			t.Errorf("IDByMobile(%s) = %q, %v; want %q", w.Mobile, byMobile, err, id)
		}
	}
	var plain int
	err = pool.QueryRow(ctx, `SELECT count(*) FROM citizens WHERE position(convert_to('1380000001', 'UTF8') in mobile) > 0
		OR position(convert_to('张三', 'UTF8') in coalesce(name, '')) > 0`).Scan(&plain)
	if err != nil || plain != 0 {
		t.Errorf("%d citizens stored with a plaintext mobile or name (%v)", plain, err)
	}
	if _, err := citizens.CreateMany(ctx, pool, sealer, []citizens.Citizen{{Mobile: "13800000011"}}); err == nil {
		t.Error("a duplicate mobile number was copied in")
	}
}
