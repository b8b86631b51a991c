package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

const conditionsScript = `
local hs = { status = "Progressing", message = "waiting" }
if obj.status ~= nil and obj.status.conditions ~= nil then
  for i, condition in ipairs(obj.status.conditions) do
    if condition.type == "Ready" and condition.status == "True" then
      hs.status = "Healthy"
      hs.message = condition.message .. " (" .. i .. " of " .. table.getn(obj.status.conditions) .. ")"
    end
  end
end
return hs
`

func verdicts(t *testing.T, script, input string) []Verdict {
	t.Helper()
	got, _ := verdictsAndLogs(t, script, input)
	return got
}

func verdictsAndLogs(t *testing.T, script, input string) ([]Verdict, string) {
	t.Helper()
	var out, logs bytes.Buffer
	if err := run(script, strings.NewReader(input), &out, &logs); err != nil {
		t.Fatalf("run: %v", err)
	}
	var got []Verdict
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("output %q is not JSON: %v", out.String(), err)
	}
	return got, logs.String()
}

func TestTheScriptSeesTheObjectAsArgoCDConvertsIt(t *testing.T) {
	input := `[
	  {"metadata":{"name":"pending"},"status":{"conditions":[{"type":"Ready","status":"False"}]}},
	  {"metadata":{"name":"ready"},"status":{"conditions":[{"type":"Other","status":"True"},{"type":"Ready","status":"True","message":"approved"}]}},
	  {"metadata":{"name":"bare"}}
	]`
	got := verdicts(t, conditionsScript, input)
	want := []Verdict{
		{"pending", "Progressing", "waiting"},
		{"ready", "Healthy", "approved (2 of 2)"},
		{"bare", "Progressing", "waiting"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("verdict %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestValuesKeepTheirLuaTypesAndNullIsNil(t *testing.T) {
	script := `
local s = obj.spec
local ok = type(s.replicas) == "number" and s.replicas == 3 and s.paused == false
  and s.note == nil and s.items[1] == "a" and s.items[2] == "b"
return { status = ok and "Healthy" or "Degraded", message = type(s.replicas) .. "," .. type(s.paused) }
`
	got := verdicts(t, script, `[{"metadata":{"name":"x"},"spec":{"replicas":3,"paused":false,"note":null,"items":["a","b"]}}]`)
	if got[0] != (Verdict{"x", "Healthy", "number,boolean"}) {
		t.Errorf("verdict = %+v", got[0])
	}
}

func TestOnlyArgoCDsLibrariesAreOpen(t *testing.T) {
	script := `
local os = require("os")
local missing = {}
for _, name in ipairs({"string", "math", "io", "debug", "coroutine", "channel"}) do
  if _G[name] ~= nil then table.insert(missing, name) end
end
if os.exit ~= nil or os.getenv ~= nil or type(os.time()) ~= "number" then table.insert(missing, "os") end
print("a line for the logs")
return { status = #missing == 0 and "Healthy" or "Degraded", message = table.concat(missing, ",") }
`
	got, logs := verdictsAndLogs(t, script, `[{"metadata":{"name":"x"}}]`)
	if got[0] != (Verdict{"x", "Healthy", ""}) {
		t.Errorf("verdict = %+v: these libraries should not be open", got[0])
	}
	if logs != "a line for the logs\n" {
		t.Errorf("print wrote %q to the logs", logs)
	}
}

func TestScriptFailuresAndUnknownStatusesAreErrors(t *testing.T) {
	for name, script := range map[string]string{
		"runtime error":   `return { status = obj.status.phase }`,
		"syntax error":    `return {`,
		"no table":        `return "Healthy"`,
		"nothing":         ``,
		"unknown status":  `return { status = "Approved" }`,
		"numeric message": `return { status = "Healthy", message = 3 }`,
		"endless loop":    `while true do end`,
	} {
		err := run(script, strings.NewReader(`[{"metadata":{"name":"x"}}]`), &bytes.Buffer{}, &bytes.Buffer{})
		if !errors.Is(err, errScript) {
			t.Errorf("%s: run = %v, want a script error", name, err)
		}
	}
}

func TestMalformedInputIsRefused(t *testing.T) {
	for _, input := range []string{`{}`, `[3]`, `[`, ``} {
		err := run(`return { status = "Healthy" }`, strings.NewReader(input), &bytes.Buffer{}, &bytes.Buffer{})
		if !errors.Is(err, errInput) {
			t.Errorf("run(%q) = %v, want an input error", input, err)
		}
	}
}
