package citizens

import (
	"context"
	"crypto/rand"
	"fmt"
	"runtime"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/jinlaiban/openplatform/shared/seal"
)

// Copier is what can COPY rows in: a pool, a connection or a transaction.
type Copier interface {
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, rows pgx.CopyFromSource) (int64, error)
}

// CreateMany adds citizens in bulk with one COPY, sealed and indexed exactly as Create
// stores one: for seeding a large directory (development, benchmarks). A citizen without an
// ID gets a new one; the ids are returned in the order given. Sealing is spread over the
// machine's cores. A duplicate mobile or ID number fails the whole COPY.
func CreateMany(ctx context.Context, conn Copier, s *seal.Sealer, cs []Citizen) ([]string, error) {
	rows := make([][]any, len(cs))
	ids := make([]string, len(cs))
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(cs); i += workers {
				c := cs[i]
				if c.RealNameLevel == "" {
					c.RealNameLevel = "basic"
				}
				if c.ID == "" {
					c.ID = newUUID()
				}
				ids[i] = c.ID
				rows[i] = append([]any{c.ID}, sealedRow(s, c)...)
			}
		}()
	}
	wg.Wait()
	n, err := conn.CopyFrom(ctx, pgx.Identifier{"citizens"}, append([]string{"id"}, sealedColumns...), pgx.CopyFromRows(rows))
	if err != nil {
		return nil, err
	}
	if int(n) != len(cs) {
		return nil, fmt.Errorf("citizens: copied %d of %d", n, len(cs))
	}
	return ids, nil
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
