// Command argo-lua runs an Argo CD resource health script (the Lua of
// resource.customizations.health.<group>_<kind> in argocd-cm) against Kubernetes objects, the way
// Argo CD runs such a customization: in github.com/yuin/gopher-lua, with the object as the global
// `obj`, only the libraries Argo CD opens for it, and a one-second time limit.
//
// Usage: argo-lua SCRIPT.lua < objects.json
//
// It reads a JSON array of objects on stdin and writes a JSON array of {"name", "status", "message"}
// in the same order on stdout. Exit codes: 0 verdicts written; 1 the script failed for an object or
// returned something other than a table whose status is one of Argo CD's health statuses; 2 usage
// error, unreadable script or input that is not a JSON array of objects.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// Verdict is the health of one object.
type Verdict struct {
	Name    string `json:"name"`
	Status  string `json:"status"`
	Message string `json:"message"`
}

// Argo CD's health statuses (gitops-engine's HealthStatusCode); Argo CD refuses any other.
var healthStatuses = map[string]bool{
	"Healthy": true, "Progressing": true, "Degraded": true, "Suspended": true, "Missing": true, "Unknown": true,
}

// Argo CD stops a health script after one second.
const scriptTimeout = time.Second

var (
	errInput  = errors.New("input is not a JSON array of Kubernetes objects")
	errScript = errors.New("health script failed")
)

func main() {
	if len(os.Args) != 2 || strings.HasPrefix(os.Args[1], "-") {
		fmt.Fprintln(os.Stderr, "usage: argo-lua SCRIPT.lua < objects.json   (a JSON array of Kubernetes objects on stdin)")
		os.Exit(2)
	}
	script, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "argo-lua: reading the script: %v\n", err)
		os.Exit(2)
	}
	if err := run(string(script), os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "argo-lua: %v\n", err)
		if errors.Is(err, errScript) {
			os.Exit(1)
		}
		os.Exit(2)
	}
}

// run writes the verdict of every object, or returns the first failure; print() in the script goes to logs.
func run(script string, in io.Reader, out, logs io.Writer) error {
	var objects []json.RawMessage
	if err := json.NewDecoder(in).Decode(&objects); err != nil {
		return fmt.Errorf("%w: %w", errInput, err)
	}
	verdicts := make([]Verdict, 0, len(objects))
	for i, raw := range objects {
		var object map[string]any
		if err := json.Unmarshal(raw, &object); err != nil || object == nil {
			return fmt.Errorf("%w: element %d is not an object", errInput, i)
		}
		name, _ := nestedString(object, "metadata", "name")
		verdict, err := health(script, object, logs)
		if err != nil {
			return fmt.Errorf("%w for object %d (%q): %w", errScript, i, name, err)
		}
		verdict.Name = name
		verdicts = append(verdicts, verdict)
	}
	encoder := json.NewEncoder(out)
	encoder.SetEscapeHTML(false)
	if err := encoder.Encode(verdicts); err != nil {
		return fmt.Errorf("writing the verdicts: %w", err)
	}
	return nil
}

// health runs the script for one object in a fresh Lua state, as Argo CD does for each resource.
func health(script string, object map[string]any, logs io.Writer) (Verdict, error) {
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	if err := openArgoLibraries(L, logs); err != nil {
		return Verdict{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), scriptTimeout)
	defer cancel()
	L.SetContext(ctx)
	L.SetGlobal("obj", toLua(L, object))
	if err := L.DoString(script); err != nil {
		return Verdict{}, err
	}
	return readVerdict(L.Get(-1))
}

// openArgoLibraries opens what Argo CD opens for a health customization (which runs without Lua's
// standard libraries unless useOpenLibs is set): package, base and table, and an `os` module holding
// only time and date, reachable through require("os"). print writes to logs, not to the verdicts.
func openArgoLibraries(L *lua.LState, logs io.Writer) error {
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.OsLibName, lua.OpenOs},
	} {
		if err := L.CallByParam(lua.P{Fn: L.NewFunction(lib.open), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			return fmt.Errorf("opening the Lua %s library: %w", lib.name, err)
		}
	}
	// Keep gopher-lua's os.time and os.date, drop the rest of os (exit, remove, getenv, …).
	fullOs, ok := L.GetGlobal(lua.OsLibName).(*lua.LTable)
	if !ok {
		return errors.New("the Lua os library did not load")
	}
	osTime, osDate := fullOs.RawGetString("time"), fullOs.RawGetString("date")
	L.SetGlobal(lua.OsLibName, lua.LNil)
	L.SetField(L.GetField(L.Get(lua.RegistryIndex), "_LOADED"), lua.OsLibName, lua.LNil)
	L.PreloadModule(lua.OsLibName, func(L *lua.LState) int {
		module := L.NewTable()
		module.RawSetString("time", osTime)
		module.RawSetString("date", osDate)
		L.Push(module)
		return 1
	})
	L.SetGlobal("print", L.NewFunction(func(L *lua.LState) int {
		parts := make([]string, 0, L.GetTop())
		for i := 1; i <= L.GetTop(); i++ {
			parts = append(parts, L.ToStringMeta(L.Get(i)).String())
		}
		fmt.Fprintln(logs, strings.Join(parts, "\t"))
		return 0
	}))
	return nil
}

// toLua converts a decoded JSON value the way Argo CD hands an object to Lua: objects become tables
// keyed by string, arrays 1-based tables, numbers, booleans and strings themselves, null nil.
func toLua(L *lua.LState, value any) lua.LValue {
	switch v := value.(type) {
	case map[string]any:
		table := L.CreateTable(0, len(v))
		for key, item := range v {
			table.RawSetH(lua.LString(key), toLua(L, item))
		}
		return table
	case []any:
		table := L.CreateTable(len(v), 0)
		for _, item := range v {
			table.Append(toLua(L, item))
		}
		return table
	case string:
		return lua.LString(v)
	case float64:
		return lua.LNumber(v)
	case bool:
		return lua.LBool(v)
	default:
		return lua.LNil
	}
}

// readVerdict checks the script's return value: a table with a known status and an optional message.
func readVerdict(value lua.LValue) (Verdict, error) {
	table, ok := value.(*lua.LTable)
	if !ok {
		return Verdict{}, fmt.Errorf("expected the script to return a table, not %s", value.Type())
	}
	status, ok := table.RawGetString("status").(lua.LString)
	if !ok {
		return Verdict{}, fmt.Errorf("the returned table has no string status (got %s)", table.RawGetString("status").Type())
	}
	if !healthStatuses[string(status)] {
		return Verdict{}, fmt.Errorf("%q is not an Argo CD health status (Healthy, Progressing, Degraded, Suspended, Missing, Unknown)", string(status))
	}
	var message string
	switch m := table.RawGetString("message").(type) {
	case lua.LString:
		message = string(m)
	case *lua.LNilType:
	default:
		return Verdict{}, fmt.Errorf("the returned message is a %s, not a string", m.Type())
	}
	return Verdict{Status: string(status), Message: message}, nil
}

func nestedString(object map[string]any, path ...string) (string, bool) {
	var current any = object
	for _, key := range path {
		m, ok := current.(map[string]any)
		if !ok {
			return "", false
		}
		current = m[key]
	}
	s, ok := current.(string)
	return s, ok
}
