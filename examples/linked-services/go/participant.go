package main

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	participantv1 "account-deletion-service/examples/linked-services/go/gen/deletion/participant/v1"
)

// participant implements deletion.participant.v1.ErasureParticipantService
// on a store. The deletion service calls Suspend when an account is
// soft-deleted, Restore when it is undeleted, and Erase at the purge; it may
// repeat any call (a retry after a lost answer), so each is idempotent on the
// deletion request, and every answer echoes the subject it is about.
type participant struct {
	// Embedded by value, as the generated code requires: a method added to
	// the contract later answers UNIMPLEMENTED until this service has it.
	participantv1.UnimplementedErasureParticipantServiceServer

	store *store
	log   *slog.Logger
}

// Suspend hides the subject's data; a repeat of the request changes nothing.
func (p *participant) Suspend(ctx context.Context, req *participantv1.SuspendRequest) (*participantv1.SuspendResponse, error) {
	subject, err := validSubject(req.GetSubject())
	if err != nil {
		return nil, err
	}
	if err := p.store.Suspend(ctx, subject.GetDeletionRequest(), subject.GetSubjectId()); err != nil {
		return nil, p.failure("suspend", subject, err)
	}
	p.log.Info("suspended", "deletion_request", subject.GetDeletionRequest())
	return &participantv1.SuspendResponse{Subject: subject}, nil
}

// Restore undoes a Suspend; a repeat of the request changes nothing.
func (p *participant) Restore(ctx context.Context, req *participantv1.RestoreRequest) (*participantv1.RestoreResponse, error) {
	subject, err := validSubject(req.GetSubject())
	if err != nil {
		return nil, err
	}
	if err := p.store.Restore(ctx, subject.GetDeletionRequest(), subject.GetSubjectId()); err != nil {
		return nil, p.failure("restore", subject, err)
	}
	p.log.Info("restored", "deletion_request", subject.GetDeletionRequest())
	return &participantv1.RestoreResponse{Subject: subject}, nil
}

// Erase deletes the subject's data in the requested categories and answers
// ERASED with the count, or NOTHING_FOUND when there was none. A repeat of
// the request answers exactly what the first call did.
//
// This service erases at once. A service that must keep some data for a
// legal reason answers RETAINED instead, e.g.
//
//	Outcome: &participantv1.EraseResponse_Retained{Retained: &participantv1.Retained{
//		LegalBasis: "tax law: invoices, 10 years", Categories: []string{"invoices"},
//		Until: timestamppb.New(keptUntil), ErasedRecords: erased}}
//
// and one that needs longer than the call's deadline answers ACCEPTED with
// an expected_by before req.GetFinalAnswerDeadline(), then reports the
// outcome through deletion.v1.DeletionService/ReportErasureOutcome.
func (p *participant) Erase(ctx context.Context, req *participantv1.EraseRequest) (*participantv1.EraseResponse, error) {
	subject, err := validSubject(req.GetSubject())
	if err != nil {
		return nil, err
	}
	erased, err := p.store.Erase(ctx, subject.GetDeletionRequest(), subject.GetSubjectId(), req.GetCategories())
	if err != nil {
		return nil, p.failure("erase", subject, err)
	}
	response := &participantv1.EraseResponse{Subject: subject}
	if erased.records == 0 {
		response.Outcome = &participantv1.EraseResponse_NothingFound{NothingFound: &participantv1.NothingFound{}}
	} else {
		response.Outcome = &participantv1.EraseResponse_Erased{Erased: &participantv1.Erased{
			Records:    erased.records,
			Categories: erased.categories,
		}}
	}
	// Log the deletion request, never the subject id: it identifies a person
	// who asked to be forgotten.
	p.log.Info("erase answered", "deletion_request", subject.GetDeletionRequest(), "records", erased.records)
	return response, nil
}

// validSubject checks the subject of a call and returns the one to echo: a
// copy of exactly what was asked about (the deletion service treats an answer
// about another request or subject as a failure). Bad input is
// INVALID_ARGUMENT, which the deletion service does not retry.
func validSubject(subject *participantv1.Subject) (*participantv1.Subject, error) {
	if subject == nil {
		return nil, status.Error(codes.InvalidArgument, "subject is required")
	}
	if id, ok := strings.CutPrefix(subject.GetDeletionRequest(), "deletionRequests/"); !ok || id == "" {
		return nil, status.Error(codes.InvalidArgument, "subject.deletion_request must be deletionRequests/{id}")
	}
	if subject.GetSubjectId() == "" {
		return nil, status.Error(codes.InvalidArgument, "subject.subject_id is required")
	}
	return &participantv1.Subject{
		DeletionRequest: subject.GetDeletionRequest(),
		SubjectId:       subject.GetSubjectId(),
	}, nil
}

// failure turns a store error into the gRPC status the deletion service acts
// on: the call's own deadline or cancellation as such, a reused deletion
// request as FAILED_PRECONDITION (retrying cannot help), and anything else as
// UNAVAILABLE, which it retries later.
func (p *participant) failure(method string, subject *participantv1.Subject, err error) error {
	p.log.Warn(method+" failed", "deletion_request", subject.GetDeletionRequest(), "error", err)
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return status.FromContextError(err).Err()
	case errors.Is(err, errOtherSubject):
		return status.Error(codes.FailedPrecondition, err.Error())
	default:
		return status.Error(codes.Unavailable, err.Error())
	}
}
