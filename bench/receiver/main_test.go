package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

const testSecret = "whsec_bXK1U6dR5e/SuwYzXvgf4hoIfxWF3NeE"

func sign(t *testing.T, id string, timestamp int64, body string) string {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(testSecret, "whsec_"))
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + strconv.FormatInt(timestamp, 10) + "." + body))
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func TestVerify(t *testing.T) {
	r, err := newReceiver(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	good := sign(t, "msg_1", now.Unix(), `{"a":1}`)
	for _, c := range []struct {
		name, id, ts, sig, body string
		want                    bool
	}{
		{"valid", "msg_1", ts, good, `{"a":1}`, true},
		{"valid among several", "msg_1", ts, "v1,bm9wZQ== " + good, `{"a":1}`, true},
		{"other body", "msg_1", ts, good, `{"a":2}`, false},
		{"other id", "msg_2", ts, good, `{"a":1}`, false},
		{"no signature", "msg_1", ts, "", `{"a":1}`, false},
		{"timestamp not a number", "msg_1", "soon", good, `{"a":1}`, false},
		{"too old", "msg_1", strconv.FormatInt(now.Add(-6*time.Minute).Unix(), 10),
			sign(t, "msg_1", now.Add(-6*time.Minute).Unix(), `{"a":1}`), `{"a":1}`, false},
	} {
		if got := r.verify(c.id, c.ts, c.sig, []byte(c.body), now); got != c.want {
			t.Errorf("%s: verify = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestServe(t *testing.T) {
	r, err := newReceiver(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	post := func(path, signature string) int {
		now := time.Now().Unix()
		if signature == "" {
			signature = sign(t, "msg_1", now, "{}")
		}
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader("{}"))
		req.Header.Set("webhook-id", "msg_1")
		req.Header.Set("webhook-timestamp", strconv.FormatInt(now, 10))
		req.Header.Set("webhook-signature", signature)
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		return w.Code
	}
	for i := range 21 {
		if code := post("/greenlight/run-a", ""); code != http.StatusNoContent {
			t.Fatalf("delivery %d: HTTP %d, want 204", i, code)
		}
	}
	if code := post("/greenlight/run-b", "v1,bm9wZQ=="); code != http.StatusUnauthorized {
		t.Fatalf("bad signature: HTTP %d, want 401", code)
	}
	read := func() counts {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/counts", nil))
		var got counts
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		return got
	}
	got := read()
	if a := got.Segments["run-a"]; a.Delivered != 21 || a.Invalid != 0 || len(a.Kept) != 2 {
		t.Errorf("run-a: %+v, want 21 delivered, 2 kept", a)
	}
	if b := got.Segments["run-b"]; b.Delivered != 0 || b.Invalid != 1 || len(b.Kept) != 1 {
		t.Errorf("run-b: %+v, want 1 invalid, 1 kept", b)
	}
	if kept := read().Segments["run-a"].Kept; len(kept) != 0 {
		t.Errorf("kept deliveries were not drained: %d left", len(kept))
	}
}
