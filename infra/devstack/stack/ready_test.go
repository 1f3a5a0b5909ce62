package stack

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A function whose port another program took first (it answers /_/ready with 200) is not
// taken for ready: it never logged that it listens, and its process ended with the error.
func TestWaitReadyIsNotFooledByAnotherProgramOnThePort(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer other.Close()
	log := filepath.Join(t.TempDir(), "todo.log")
	old := `{"level":"INFO","msg":"listening","function":"todo","port":1}` + "\n" // a previous run's line
	if err := os.WriteFile(log, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	f := &Function{Name: "todo", URL: other.URL, LogFile: log, logFrom: int64(len(old)), done: make(chan struct{})}
	if err := os.WriteFile(log, []byte(old+`{"level":"ERROR","msg":"PORT: cannot listen: address already in use"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	close(f.done) // the process ended
	err := waitReady(context.Background(), f)
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("waitReady: %v, want the function's own failure", err)
	}

	// Once it has logged that it listens, the same answer counts.
	f2 := &Function{Name: "todo", URL: other.URL, LogFile: log, logFrom: int64(len(old)), done: make(chan struct{})}
	if err := os.WriteFile(log, []byte(old+`{"level":"INFO","msg":"listening","function":"todo","port":2}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := waitReady(context.Background(), f2); err != nil {
		t.Fatalf("waitReady of a function that listens: %v", err)
	}
}
