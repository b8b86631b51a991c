// Command kstatus prints the status that the kstatus library (sigs.k8s.io/cli-utils/pkg/kstatus),
// which Flux and other GitOps tools use to wait for resources, computes for Kubernetes objects.
//
// It reads a JSON array of objects, as the API server returns them, on stdin and writes a JSON array
// of {"name", "status", "message"} in the same order on stdout, where status is one of InProgress,
// Current, Failed, Terminating, NotFound or Unknown. An object that kstatus cannot read (a malformed
// status, say) gets Unknown with the library's error as message, as kstatus' own poller reports it.
//
// Exit codes: 0 verdicts written; 2 the input is not a JSON array of objects.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

// Verdict is the status of one object.
type Verdict struct {
	Name    string `json:"name"`
	Status  string `json:"status"`
	Message string `json:"message"`
}

// errInput marks input that is not a JSON array of objects.
var errInput = errors.New("input is not a JSON array of Kubernetes objects")

func main() {
	if len(os.Args) > 1 {
		fmt.Fprintln(os.Stderr, "usage: kstatus < objects.json   (a JSON array of Kubernetes objects on stdin)")
		os.Exit(2)
	}
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "kstatus: %v\n", err)
		os.Exit(2)
	}
}

func run(in io.Reader, out io.Writer) error {
	objects, err := readObjects(in)
	if err != nil {
		return err
	}
	verdicts := make([]Verdict, 0, len(objects))
	for _, object := range objects {
		verdicts = append(verdicts, compute(&unstructured.Unstructured{Object: object}))
	}
	encoder := json.NewEncoder(out)
	encoder.SetEscapeHTML(false)
	if err := encoder.Encode(verdicts); err != nil {
		return fmt.Errorf("writing the verdicts: %w", err)
	}
	return nil
}

func readObjects(in io.Reader) ([]map[string]any, error) {
	var raw []json.RawMessage
	if err := json.NewDecoder(in).Decode(&raw); err != nil {
		return nil, fmt.Errorf("%w: %w", errInput, err)
	}
	objects := make([]map[string]any, 0, len(raw))
	for i, item := range raw {
		// Numbers as the API machinery decodes them (integers as int64), which kstatus expects.
		var object map[string]any
		if err := utiljson.Unmarshal(item, &object); err != nil || object == nil {
			return nil, fmt.Errorf("%w: element %d is not an object", errInput, i)
		}
		objects = append(objects, object)
	}
	return objects, nil
}

func compute(object *unstructured.Unstructured) Verdict {
	result, err := status.Compute(object)
	if err != nil {
		return Verdict{Name: object.GetName(), Status: status.UnknownStatus.String(), Message: err.Error()}
	}
	return Verdict{Name: object.GetName(), Status: result.Status.String(), Message: result.Message}
}
