package stack

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Data survives a restart of the local stack: the second start finds the administrator
// (and prints no new password), the citizens and what was written, under the same keys.
func TestDataSurvivesRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole stack twice")
	}
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.MkdirTemp("", "jlb-restart-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(data)
	_ = os.Chmod(data, 0o755) // PostgreSQL may run as another user
	ctx := context.Background()

	first, err := Start(ctx, Options{Root: root, DataDir: data, Durable: true})
	if err != nil {
		t.Fatal(err)
	}
	if first.AdminPassword == "" {
		first.Stop()
		t.Fatal("the first start seeds an administrator")
	}
	token := signIn(t, first.GatewayURL, first.AdminLogin, first.AdminPassword)
	first.Stop()

	second, err := Start(ctx, Options{Root: root, DataDir: data, Durable: true})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Stop()
	if second.AdminPassword != "" {
		t.Error("a restart must not seed (or print) a new administrator password")
	}
	// The session made before the restart still works: same database, same keys.
	req, _ := http.NewRequest("GET", second.GatewayURL+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("after a restart the earlier session answers %d", resp.StatusCode)
	}
}

func signIn(t *testing.T, gateway, login, password string) string {
	t.Helper()
	body := `{"login":"` + login + `","password":"` + password + `"}`
	resp, err := http.Post(gateway+"/api/v1/sessions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Token == "" {
		t.Fatalf("sign-in: %d %v", resp.StatusCode, err)
	}
	return out.Token
}
