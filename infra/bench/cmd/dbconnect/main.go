// Command dbconnect opens one PostgreSQL connection the way the functions do (pgx, in a
// process that has not connected before) and prints how long it took in microseconds. `make
// bench` runs it to price "one database connection" in the /_/ready start-up target: a fresh
// process pays for loading pgx's code and type tables on its first connection, which a
// connection from a warm process would not show.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
)

func main() {
	ctx := context.Background()
	start := time.Now()
	conn, err := pgx.Connect(ctx, os.Getenv("DATABASE_URL"))
	if err == nil {
		err = conn.Ping(ctx)
	}
	took := time.Since(start)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dbconnect:", err)
		os.Exit(1)
	}
	_ = conn.Close(ctx)
	fmt.Println(took.Microseconds())
}
