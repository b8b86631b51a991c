package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// A custom resource the way a controller following the kstatus conventions reports it.
func object(name string, generation, observed int, conditions string) string {
	return `{"apiVersion":"example.dev/v1","kind":"Widget",
		"metadata":{"name":"` + name + `","generation":` + itoa(generation) + `},
		"status":{"observedGeneration":` + itoa(observed) + `,"conditions":[` + conditions + `]}}`
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestVerdictsFollowTheConditionsInInputOrder(t *testing.T) {
	input := "[" + strings.Join([]string{
		object("reconciling", 1, 1, `{"type":"Reconciling","status":"True","reason":"Waiting","message":"waiting for approval"}`),
		object("ready", 1, 1, `{"type":"Ready","status":"True","reason":"Approved","message":"approved"}`),
		object("stalled", 1, 1, `{"type":"Stalled","status":"True","reason":"Denied","message":"denied by policy"}`),
		object("stale", 2, 1, `{"type":"Ready","status":"True"}`),
	}, ",") + "]"
	var out bytes.Buffer
	if err := run(strings.NewReader(input), &out); err != nil {
		t.Fatalf("run: %v", err)
	}
	var got []Verdict
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("output %q is not JSON: %v", out.String(), err)
	}
	want := []Verdict{
		{"reconciling", "InProgress", "waiting for approval"},
		{"ready", "Current", "Resource is Ready"},
		{"stalled", "Failed", "denied by policy"},
		{"stale", "InProgress", "Widget generation is 2, but latest observed generation is 1"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d verdicts, want %d: %s", len(got), len(want), out.String())
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("verdict %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestAnObjectKstatusCannotReadIsUnknown(t *testing.T) {
	var out bytes.Buffer
	input := `[{"apiVersion":"example.dev/v1","kind":"Widget","metadata":{"name":"odd"},"status":{"conditions":"not a list"}}]`
	if err := run(strings.NewReader(input), &out); err != nil {
		t.Fatalf("run: %v", err)
	}
	var got []Verdict
	if err := json.Unmarshal(out.Bytes(), &got); err != nil || len(got) != 1 {
		t.Fatalf("output %q: %v", out.String(), err)
	}
	if got[0].Status != "Unknown" || got[0].Message == "" {
		t.Errorf("verdict = %+v, want Unknown with the library's error", got[0])
	}
}

func TestMalformedInputIsRefused(t *testing.T) {
	for _, input := range []string{`{"kind":"Widget"}`, `[1]`, `[null]`, `[{"kind":`, ``} {
		err := run(strings.NewReader(input), &bytes.Buffer{})
		if !errors.Is(err, errInput) {
			t.Errorf("run(%q) = %v, want an input error", input, err)
		}
	}
}
