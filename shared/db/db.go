// Package db opens the small, lazily-connected PostgreSQL pool each function instance uses,
// and runs transactions.
package db

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Config is read from the environment. Size the pool so that max-scale × DB_POOL_MAX fits
// the database's connection budget; behind PgBouncer in transaction mode set
// DB_EXEC_MODE=cache_describe (or simple_protocol).
type Config struct {
	URL            string        `envconfig:"DATABASE_URL" secret:"database-url,required"`
	PoolMax        int32         `envconfig:"DB_POOL_MAX" default:"4"`
	ExecMode       string        `envconfig:"DB_EXEC_MODE" default:"cache_statement"`
	ConnectTimeout time.Duration `envconfig:"DB_CONNECT_TIMEOUT" default:"3s"`
	StatementTime  time.Duration `envconfig:"DB_STATEMENT_TIMEOUT" default:"10s"`
}

var execModes = map[string]pgx.QueryExecMode{
	"cache_statement": pgx.QueryExecModeCacheStatement,
	"cache_describe":  pgx.QueryExecModeCacheDescribe,
	"describe_exec":   pgx.QueryExecModeDescribeExec,
	"exec":            pgx.QueryExecModeExec,
	"simple_protocol": pgx.QueryExecModeSimpleProtocol,
}

// Open builds the pool without connecting.
func Open(cfg Config) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, errors.New("DATABASE_URL: not a valid PostgreSQL connection string")
	}
	mode, ok := execModes[cfg.ExecMode]
	if !ok {
		return nil, fmt.Errorf("DB_EXEC_MODE: invalid value %q (want cache_statement, cache_describe, describe_exec, exec or simple_protocol)", cfg.ExecMode)
	}
	if cfg.PoolMax < 1 {
		return nil, fmt.Errorf("DB_POOL_MAX: invalid value %d (want at least 1)", cfg.PoolMax)
	}
	pc.MaxConns = cfg.PoolMax
	pc.MinConns = 0
	pc.MaxConnIdleTime = 5 * time.Minute
	pc.HealthCheckPeriod = 15 * time.Second
	pc.ConnConfig.DefaultQueryExecMode = mode
	pc.ConnConfig.ConnectTimeout = cfg.ConnectTimeout
	if cfg.StatementTime > 0 {
		pc.ConnConfig.RuntimeParams["statement_timeout"] = fmt.Sprint(cfg.StatementTime.Milliseconds())
	}
	return pgxpool.NewWithConfig(context.Background(), pc)
}

// Tx runs f in a transaction, committing when it returns nil.
func Tx(ctx context.Context, pool *pgxpool.Pool, f func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, pool, f)
}

// IsUniqueViolation reports whether err is a unique-constraint violation, optionally of the
// named constraint.
func IsUniqueViolation(err error, constraint string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505" && (constraint == "" || pgErr.ConstraintName == constraint)
}

// Querier is what both a pool and a transaction offer, so a query can run in either.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}
