// Command migrate applies the schema migrations and exits: a one-shot deploy job (a
// Kubernetes Job, or run by the local stack before the functions start). Given
// BOOTSTRAP_ADMIN_LOGIN and a password, it also creates the first administrator when there
// is none; that account must change its password at first sign-in.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jinlaiban/openplatform/shared/accounts"
	"github.com/jinlaiban/openplatform/shared/auth"
	"github.com/jinlaiban/openplatform/shared/config"
	"github.com/jinlaiban/openplatform/shared/db"
	"github.com/jinlaiban/openplatform/shared/migrations"
	"github.com/jinlaiban/openplatform/shared/seal"
)

type settings struct {
	Timeout       time.Duration `envconfig:"MIGRATE_TIMEOUT" default:"5m"`
	AdminLogin    string        `envconfig:"BOOTSTRAP_ADMIN_LOGIN"`
	AdminPassword string        `envconfig:"BOOTSTRAP_ADMIN_PASSWORD" secret:"bootstrap-admin-password"`
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "migrate:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	var cfg settings
	var dbc db.Config
	if err := config.Load(&cfg); err != nil {
		return err
	}
	if err := config.Load(&dbc); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	logf := func(format string, args ...any) { fmt.Printf("migrate: "+format+"\n", args...) }
	if err := migrations.Apply(ctx, dbc.URL, logf); err != nil {
		return err
	}
	logf("schema is up to date")
	if cfg.AdminLogin == "" {
		return nil
	}
	return bootstrapAdmin(ctx, dbc, cfg)
}

func bootstrapAdmin(ctx context.Context, dbc db.Config, cfg settings) error {
	if reason := auth.PasswordProblem(cfg.AdminPassword, cfg.AdminLogin); reason != "" {
		return fmt.Errorf("BOOTSTRAP_ADMIN_PASSWORD: %s", reason)
	}
	var sc seal.Config
	if err := config.Load(&sc); err != nil {
		return err
	}
	sealer, err := seal.New(sc)
	if err != nil {
		return err
	}
	pool, err := db.Open(dbc)
	if err != nil {
		return err
	}
	defer pool.Close()
	created, err := accounts.CreateAdminIfNone(ctx, pool, sealer, cfg.AdminLogin, cfg.AdminPassword)
	if err != nil {
		return err
	}
	if created {
		fmt.Printf("migrate: created administrator %q (must change its password at first sign-in)\n", cfg.AdminLogin)
	} else {
		fmt.Println("migrate: an administrator exists; bootstrap skipped")
	}
	return nil
}
