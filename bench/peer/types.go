package main

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// The ApprovalRequest API types as kubebuilder would generate them, with the fields the peer reads and
// writes (the CRD keeps the others as they are: an update carries what it read). The DeepCopy methods
// are what controller-gen writes.

type ApprovalRequest struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              ApprovalRequestSpec   `json:"spec"`
	Status            ApprovalRequestStatus `json:"status,omitempty"`
}

type ApprovalRequestList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ApprovalRequest `json:"items"`
}

type ApprovalRequestSpec struct {
	Action     string                `json:"action"`
	Resource   string                `json:"resource,omitempty"`
	Requester  string                `json:"requester"`
	Reason     string                `json:"reason,omitempty"`
	Parameters *apiextensionsv1.JSON `json:"parameters,omitempty"`
}

type ApprovalRequestStatus struct {
	Phase              string             `json:"phase,omitempty"`
	Decision           *Decision          `json:"decision,omitempty"`
	Evaluations        []Evaluation       `json:"evaluations,omitempty"`
	ExpiresAt          string             `json:"expiresAt,omitempty"`
	ObservedGeneration int64              `json:"observedGeneration,omitempty"`
	Conditions         []metav1.Condition `json:"conditions,omitempty"`
}

type Decision struct {
	Outcome   string `json:"outcome"`
	DecidedBy string `json:"decidedBy"`
	Reason    string `json:"reason"`
	DecidedAt string `json:"decidedAt"`
}

type Evaluation struct {
	Policy           string `json:"policy"`
	Rule             string `json:"rule,omitempty"`
	Result           string `json:"result"`
	Message          string `json:"message,omitempty"`
	PolicyGeneration int64  `json:"policyGeneration,omitempty"`
}

func (in *ApprovalRequest) DeepCopyInto(out *ApprovalRequest) {
	*out = *in
	out.TypeMeta = in.TypeMeta
	in.ObjectMeta.DeepCopyInto(&out.ObjectMeta)
	in.Spec.DeepCopyInto(&out.Spec)
	in.Status.DeepCopyInto(&out.Status)
}

func (in *ApprovalRequest) DeepCopy() *ApprovalRequest {
	if in == nil {
		return nil
	}
	out := new(ApprovalRequest)
	in.DeepCopyInto(out)
	return out
}

func (in *ApprovalRequest) DeepCopyObject() runtime.Object { return in.DeepCopy() }

func (in *ApprovalRequestList) DeepCopyInto(out *ApprovalRequestList) {
	*out = *in
	out.TypeMeta = in.TypeMeta
	in.ListMeta.DeepCopyInto(&out.ListMeta)
	if in.Items != nil {
		out.Items = make([]ApprovalRequest, len(in.Items))
		for i := range in.Items {
			in.Items[i].DeepCopyInto(&out.Items[i])
		}
	}
}

func (in *ApprovalRequestList) DeepCopy() *ApprovalRequestList {
	if in == nil {
		return nil
	}
	out := new(ApprovalRequestList)
	in.DeepCopyInto(out)
	return out
}

func (in *ApprovalRequestList) DeepCopyObject() runtime.Object { return in.DeepCopy() }

func (in *ApprovalRequestSpec) DeepCopyInto(out *ApprovalRequestSpec) {
	*out = *in
	if in.Parameters != nil {
		out.Parameters = in.Parameters.DeepCopy()
	}
}

func (in *ApprovalRequestStatus) DeepCopyInto(out *ApprovalRequestStatus) {
	*out = *in
	if in.Decision != nil {
		decision := *in.Decision
		out.Decision = &decision
	}
	if in.Evaluations != nil {
		out.Evaluations = append([]Evaluation(nil), in.Evaluations...)
	}
	if in.Conditions != nil {
		out.Conditions = make([]metav1.Condition, len(in.Conditions))
		for i := range in.Conditions {
			in.Conditions[i].DeepCopyInto(&out.Conditions[i])
		}
	}
}
