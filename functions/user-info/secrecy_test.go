package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

func TestPersonalDataTokensAndFaceImagesAreNeitherStoredNorLoggedInPlaintext(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	a := h.newApp(t, "公积金系统", "real_name")
	h.goLive(t, a)
	c := h.newCitizen(t, "13912340001", "14010519900307123X")
	ctx := context.Background()
	client := h.client(a)

	secrets := map[string]string{
		"test appSecret":       a.testSecret,
		"production appSecret": a.productionSecret,
		"mobile number":        c.Mobile,
		"ID number":            c.IDNumber,
		"face-image key":       c.FaceImageKey,
	}
	testTicket, prodTicket := h.issue(t, c, a.service), h.issue(t, c, a.live)
	secrets["test ticket"], secrets["production ticket"] = testTicket, prodTicket
	for env, ticket := range map[string]string{"test": testTicket, "production": prodTicket} {
		tok, err := client.ExchangeTicket(ctx, ticket)
		if err != nil {
			t.Fatal(err)
		}
		secrets[env+" access token"] = tok.AccessToken
		info, err := client.UserInfo(ctx, tok)
		if err != nil || info.FaceImageURL == "" || info.IDNumber != c.IDNumber {
			t.Fatalf("user info in %s: %+v, %v", env, info, err)
		}
		secrets[env+" face image URL"] = info.FaceImageURL
		_, query, _ := strings.Cut(info.FaceImageURL, "?")
		secrets[env+" face image URL's signature"] = query
	}
	// Refusals are logged too.
	h.userInfo(t, a.AppCode, a.testSecret, "Bearer "+secrets["production access token"]).
		wantProblem(t, http.StatusUnauthorized, "environment-mismatch")
	h.userInfo(t, a.AppCode, a.testSecret+"0", "Bearer "+secrets["test access token"]).
		wantProblem(t, http.StatusUnauthorized, "signature-mismatch")

	noneOf(t, "the database", h.dump(t), secrets)
	noneOf(t, "the logs", h.logs.String(), secrets)

	// The face image's key is sealed in the directory like the rest of the person's data.
	if n := scalar[int](t, h, `SELECT count(*) FROM citizens WHERE face_image_key IS NOT NULL`); n == 0 {
		t.Error("the directory lost the face image's (sealed) key")
	}
}
