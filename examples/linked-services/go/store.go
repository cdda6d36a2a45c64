package main

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
)

// The data categories this service holds, and how many records of each a
// seeded subject starts with.
var seedRecords = map[string]int64{
	"profile": 1,
	"tickets": 3,
}

// errOtherSubject means a deletion request already seen here was about
// another subject: the caller mixed up its idempotency keys.
var errOtherSubject = errors.New("this deletion request was about another subject")

// erasure is what one Erase did. Zero records means nothing was found.
type erasure struct {
	records    int64
	categories []string // sorted, so every answer lists them in the same order
}

// step is one change made for a deletion request: which call made it, for
// which request. It is the idempotency key of every call.
type step struct {
	method          string // "suspend", "restore" or "erase"
	deletionRequest string
}

// done is what the store remembers about a step it has taken.
type done struct {
	subjectID string
	erasure   erasure // for "erase" only
}

// store stands in for this service's own database. Each method applies one
// change together with the record that a deletion request made it, under one
// lock: in a real database, do both in one transaction, with a unique key on
// (method, deletion request). A repeat of a request then finds that record
// and changes nothing, even after a restart. Every method takes the call's
// context: pass it on to your database driver so a call the deletion service
// has given up on (its deadline passed) stops too.
type store struct {
	mu        sync.Mutex
	records   map[string]map[string]int64 // subject id → category → record count
	suspended map[string]bool             // subjects whose data is hidden (reads skip them)
	steps     map[step]done               // every step taken; keep them as long as a retry may come
}

// newStore returns a store holding seedRecords for each of subjects.
func newStore(subjects []string) *store {
	s := &store{
		records:   make(map[string]map[string]int64),
		suspended: make(map[string]bool),
		steps:     make(map[step]done),
	}
	for _, subject := range subjects {
		s.records[subject] = maps.Clone(seedRecords)
	}
	return s
}

// once runs apply unless (method, deletionRequest) was done before, and
// returns what the first run did. It holds the lock throughout, so two
// identical calls arriving at the same time change the data once.
func (s *store) once(ctx context.Context, key step, subjectID string, apply func() erasure) (erasure, error) {
	if err := ctx.Err(); err != nil {
		return erasure{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if previous, ok := s.steps[key]; ok {
		if previous.subjectID != subjectID {
			return erasure{}, errOtherSubject
		}
		return previous.erasure, nil
	}
	result := apply()
	s.steps[key] = done{subjectID: subjectID, erasure: result}
	return result, nil
}

// Suspend hides the subject's data (a soft-deleted account), keeping it restorable.
func (s *store) Suspend(ctx context.Context, deletionRequest, subjectID string) error {
	_, err := s.once(ctx, step{"suspend", deletionRequest}, subjectID, func() erasure {
		if _, ok := s.records[subjectID]; ok {
			s.suspended[subjectID] = true
		}
		return erasure{}
	})
	return err
}

// Restore shows the subject's data again (the account was restored).
func (s *store) Restore(ctx context.Context, deletionRequest, subjectID string) error {
	_, err := s.once(ctx, step{"restore", deletionRequest}, subjectID, func() erasure {
		delete(s.suspended, subjectID)
		return erasure{}
	})
	return err
}

// Erase deletes the subject's records in categories (empty: all of them) and
// says how many there were. A repeat of the request answers the same.
func (s *store) Erase(ctx context.Context, deletionRequest, subjectID string, categories []string) (erasure, error) {
	return s.once(ctx, step{"erase", deletionRequest}, subjectID, func() erasure {
		held := s.records[subjectID]
		var result erasure
		for category, count := range held {
			if len(categories) > 0 && !slices.Contains(categories, category) {
				continue
			}
			delete(held, category)
			if count > 0 {
				result.records += count
				result.categories = append(result.categories, category)
			}
		}
		if len(held) == 0 {
			delete(s.records, subjectID)
			delete(s.suspended, subjectID)
		}
		slices.Sort(result.categories)
		return result
	})
}
