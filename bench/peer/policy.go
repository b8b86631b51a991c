package main

import (
	"encoding/json"
	"strings"
)

// The typical policy of the benchmark (bench/lib/workload.ts, PAYMENTS_POLICY_SPEC), hard-wired: the
// peer has no policy engine, which only makes it cheaper than Greenlight, never dearer.
const policyName = "payments"

// parameters are the fields of spec.parameters the rules read.
type parameters struct {
	Amount   float64 `json:"amount"`
	Currency string  `json:"currency"`
	Kind     *string `json:"kind"`
	Vendor   *string `json:"vendor"`
}

type rule struct {
	name     string
	decision string // Approve or Deny
	message  string
	when     func(spec *ApprovalRequestSpec, p *parameters) bool
}

var rules = []rule{
	{"over-limit", "Deny", "payments of $100,000 or more cannot be approved through this workflow",
		func(_ *ApprovalRequestSpec, p *parameters) bool { return p.Amount >= 100000 }},
	{"below-500", "Approve", "payments below $500 are approved automatically",
		func(_ *ApprovalRequestSpec, p *parameters) bool { return p.Amount < 500 && p.Currency == "USD" }},
	{"ci-refunds", "Approve", "refunds below $2,000 from CI are approved automatically",
		func(s *ApprovalRequestSpec, p *parameters) bool {
			return strings.HasPrefix(s.Requester, "system:serviceaccount:ci:") &&
				p.Kind != nil && *p.Kind == "refund" && p.Amount < 2000
		}},
	{"known-vendor", "Approve", "known vendors below $10,000",
		func(_ *ApprovalRequestSpec, p *parameters) bool {
			return p.Vendor != nil && (*p.Vendor == "acme" || *p.Vendor == "globex") && p.Amount < 10000
		}},
}

// verdict is what the rules say: a final outcome, or Escalated (Outcome empty) when none matches.
type verdict struct {
	Phase       string
	Outcome     string
	DecidedBy   string
	Reason      string
	Evaluations []Evaluation
}

// decide runs the rules in order; the first that matches decides. Requests that are not payments, or
// whose parameters cannot be read, are escalated.
func decide(spec *ApprovalRequestSpec) verdict {
	var p parameters
	if spec.Action != "payment" || spec.Parameters == nil || json.Unmarshal(spec.Parameters.Raw, &p) != nil {
		return verdict{Phase: "Escalated", Reason: "no policy decides this request"}
	}
	evaluations := make([]Evaluation, 0, len(rules))
	for _, r := range rules {
		if !r.when(spec, &p) {
			evaluations = append(evaluations, Evaluation{Policy: policyName, Rule: r.name, Result: "NoMatch",
				Message: "when is false", PolicyGeneration: 1})
			continue
		}
		evaluations = append(evaluations, Evaluation{Policy: policyName, Rule: r.name, Result: r.decision,
			Message: r.message, PolicyGeneration: 1})
		// As Greenlight words it: a denial gives the rule's message, an approval names its policies.
		outcome, reason := "Approved", policyName+": "+r.message
		if r.decision == "Deny" {
			outcome, reason = "Denied", r.message
		}
		return verdict{Phase: outcome, Outcome: outcome, DecidedBy: "policy:" + policyName + "/" + r.name,
			Reason: reason, Evaluations: evaluations}
	}
	return verdict{Phase: "Escalated", Reason: "no rule matched: waiting for 2 approvals",
		Evaluations: evaluations}
}
