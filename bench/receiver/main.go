// Command receiver is the benchmark's stand-in for a user's automation server: the endpoint decision
// webhooks are POSTed to. Like a real one it verifies the Standard Webhooks signature of every delivery
// (HMAC-SHA256 of "id.timestamp.body" with the secret, the timestamp within five minutes of now) and
// answers 204 when it holds, 401 when it does not. In production that server runs on other machines;
// in the benchmark it shares the cores with the controller and the API server, so it is written the way
// a plain, cheap Go server is: the standard library only, keep-alive HTTP/1.1, no parsing of the body.
//
// Deliveries are counted by the URL's last path segment (the benchmark gives each run a URL of its
// own). One delivery in 20 of each segment is kept whole (body and the three webhook-* headers) so
// that the benchmark can verify it again with another implementation. GET /counts answers, as JSON,
// the connections that carried deliveries so far and, per segment, the deliveries whose signature held
// (delivered), those whose signature did not (invalid) and the kept ones; reading drains the kept ones.
//
// Usage: receiver [-listen 127.0.0.1:0] [-secret whsec_...] [-exit-on-eof]
//
// The secret may also come from $GREENLIGHT_RECEIVER_SECRET (the benchmark's way: a command line is
// visible to every user of the machine). The first line on stdout is the base URL it listens on,
// e.g. http://127.0.0.1:40123. With -exit-on-eof it exits when its standard input closes, so that it
// never outlives the process that started it (however that process ends); SIGTERM stops it too.
package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// keepEvery: of each segment's deliveries, the 1st, the 21st, … are kept whole.
	keepEvery = 20
	// tolerance is how far a webhook-timestamp may be from now (Standard Webhooks' default).
	tolerance = 5 * time.Minute
	// maxBody bounds what one delivery may send; a decision's CloudEvent is a few KiB.
	maxBody = 1 << 20
)

// kept is one delivery as it arrived.
type kept struct {
	Body    string            `json:"body"`
	Headers map[string]string `json:"headers"`
}

// segment holds the counts of one URL's last path segment.
type segment struct {
	received  int
	delivered int
	invalid   int
	kept      []kept
}

type segmentCounts struct {
	Delivered int    `json:"delivered"`
	Invalid   int    `json:"invalid"`
	Kept      []kept `json:"kept"`
}

type counts struct {
	// Connections is the number of connections that carried at least one delivery.
	Connections int64                    `json:"connections"`
	Segments    map[string]segmentCounts `json:"segments"`
}

type receiver struct {
	key         []byte
	macs        sync.Pool
	bodies      sync.Pool
	connections atomic.Int64

	mu       sync.Mutex
	segments map[string]*segment
}

// connKey marks, in a connection's context, whether it has carried a delivery yet.
type connKey struct{}

func newReceiver(secret string) (*receiver, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return nil, fmt.Errorf("the secret is not whsec_ followed by base64: %w", err)
	}
	if len(key) == 0 {
		return nil, errors.New("the secret is empty")
	}
	r := &receiver{key: key, segments: map[string]*segment{}}
	r.macs.New = func() any { return hmac.New(sha256.New, r.key) }
	r.bodies.New = func() any { return new(bytes.Buffer) }
	return r, nil
}

// verify tells whether signatures (space-separated "v1,<base64>") holds one that signs id.timestamp.body.
func (r *receiver) verify(id, timestamp, signatures string, body []byte, now time.Time) bool {
	if id == "" || timestamp == "" || signatures == "" {
		return false
	}
	seconds, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return false
	}
	if skew := now.Sub(time.Unix(seconds, 0)); skew > tolerance || skew < -tolerance {
		return false
	}
	mac := r.macs.Get().(hash.Hash)
	defer r.macs.Put(mac)
	mac.Reset()
	io.WriteString(mac, id)
	io.WriteString(mac, ".")
	io.WriteString(mac, timestamp)
	io.WriteString(mac, ".")
	mac.Write(body)
	var sum [sha256.Size]byte
	var expected [3 + 44]byte // "v1," and the base64 of 32 bytes
	copy(expected[:], "v1,")
	base64.StdEncoding.Encode(expected[3:], mac.Sum(sum[:0]))
	for candidate := range strings.SplitSeq(signatures, " ") {
		if subtle.ConstantTimeCompare([]byte(candidate), expected[:]) == 1 {
			return true
		}
	}
	return false
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method == http.MethodGet && req.URL.Path == "/counts" {
		r.serveCounts(w)
		return
	}
	if req.Method != http.MethodPost {
		http.Error(w, "POST deliveries here, or GET /counts", http.StatusMethodNotAllowed)
		return
	}
	if carried, ok := req.Context().Value(connKey{}).(*atomic.Bool); ok && carried.CompareAndSwap(false, true) {
		r.connections.Add(1)
	}
	body := r.bodies.Get().(*bytes.Buffer)
	defer r.bodies.Put(body)
	body.Reset()
	if _, err := body.ReadFrom(http.MaxBytesReader(w, req.Body, maxBody)); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	id := req.Header.Get("webhook-id")
	timestamp := req.Header.Get("webhook-timestamp")
	signatures := req.Header.Get("webhook-signature")
	valid := r.verify(id, timestamp, signatures, body.Bytes(), time.Now())
	name := req.URL.Path[strings.LastIndexByte(req.URL.Path, '/')+1:]

	r.mu.Lock()
	s := r.segments[name]
	if s == nil {
		s = &segment{}
		r.segments[name] = s
	}
	if valid {
		s.delivered++
	} else {
		s.invalid++
	}
	if s.received%keepEvery == 0 {
		s.kept = append(s.kept, kept{
			Body: body.String(),
			Headers: map[string]string{
				"webhook-id":        id,
				"webhook-timestamp": timestamp,
				"webhook-signature": signatures,
			},
		})
	}
	s.received++
	r.mu.Unlock()

	if valid {
		w.WriteHeader(http.StatusNoContent)
	} else {
		http.Error(w, "invalid signature", http.StatusUnauthorized)
	}
}

func (r *receiver) serveCounts(w http.ResponseWriter) {
	out := counts{Connections: r.connections.Load(), Segments: map[string]segmentCounts{}}
	r.mu.Lock()
	for name, s := range r.segments {
		out.Segments[name] = segmentCounts{Delivered: s.delivered, Invalid: s.invalid, Kept: s.kept}
		s.kept = nil
	}
	r.mu.Unlock()
	for name, s := range out.Segments {
		if s.Kept == nil {
			s.Kept = []kept{}
			out.Segments[name] = s
		}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "host:port to listen on (port 0: any free port)")
	secret := flag.String("secret", os.Getenv("GREENLIGHT_RECEIVER_SECRET"),
		"the signing secret, whsec_<base64> (default $GREENLIGHT_RECEIVER_SECRET)")
	exitOnEOF := flag.Bool("exit-on-eof", false, "exit when standard input closes")
	flag.Parse()
	if err := run(*listen, *secret, *exitOnEOF); err != nil {
		fmt.Fprintf(os.Stderr, "receiver: %v\n", err)
		os.Exit(1)
	}
}

func run(listen, secret string, exitOnEOF bool) error {
	if secret == "" {
		return errors.New("no secret: give -secret or set GREENLIGHT_RECEIVER_SECRET")
	}
	r, err := newReceiver(secret)
	if err != nil {
		return err
	}
	listener, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	server := &http.Server{
		Handler:           r,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       time.Minute,
		ConnContext: func(ctx context.Context, _ net.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, new(atomic.Bool))
		},
	}
	if exitOnEOF {
		go func() {
			io.Copy(io.Discard, os.Stdin)
			os.Exit(0)
		}()
	}
	fmt.Printf("http://%s\n", listener.Addr())
	return server.Serve(listener)
}
