import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, describeError } from '../api.js';
import { useAllowed } from '../viewer.js';
import { Field, Pending, when } from '../format.js';

/**
 * The mass-deletion breaker: whether erasures are paused and why, how many
 * started in its window against its limits, and resume with a justification
 * (administrators). Refreshed every few seconds: a trip shows without a reload.
 */
export const SafetyScreen = () => {
  const queries = useQueryClient();
  const canResume = useAllowed('resumeErasures');
  const [justification, setJustification] = useState('');
  const status = useQuery({
    queryKey: ['safety'],
    queryFn: () => api.getSafetyStatus.query({}),
    refetchInterval: 5_000,
  });
  const resume = useMutation({
    mutationFn: () => api.resumeErasures.mutate({ justification }),
    onSuccess: (resumed) => {
      setJustification('');
      queries.setQueryData(['safety'], resumed);
    },
  });
  if (status.isPending || status.isError)
    return <Pending error={status.isError ? describeError(status.error) : null} />;
  const view = status.data;
  const submit = (event: { preventDefault(): void }) => {
    event.preventDefault();
    resume.mutate();
  };
  return (
    <section>
      <h1>Safety</h1>
      <p className={view.paused ? 'alarm' : 'calm'} role="status">
        {view.paused
          ? `Erasures are paused: ${view.reason ?? 'tripped'}.`
          : 'Erasures run: the mass-deletion breaker is closed.'}
      </p>
      <dl className="facts">
        <Field label="Started in the window">
          {view.startedInWindow} of {view.limit} (per requester {view.requesterLimit}), window{' '}
          {Math.round(view.windowSeconds / 60)} min
        </Field>
        <Field label="Paused">
          {view.paused
            ? `${when(view.pauseTime)}${view.requester ? ` by requests of ${view.requester}` : ''}`
            : '—'}
        </Field>
        <Field label="Last resumed">
          {view.resumeTime ? `${when(view.resumeTime)} by ${view.resumedBy?.id ?? '?'}` : '—'}
        </Field>
      </dl>
      {view.paused && canResume && (
        <form onSubmit={submit} className="resume">
          <label htmlFor="justification">Why it is safe to resume</label>
          <input
            id="justification"
            value={justification}
            placeholder="At least 10 characters; audited"
            onChange={(event) => setJustification(event.target.value)}
          />
          <button type="submit" disabled={justification.trim().length < 10 || resume.isPending}>
            Resume erasures
          </button>
        </form>
      )}
      {resume.isError && (
        <p role="alert" className="error">
          {describeError(resume.error)}
        </p>
      )}
    </section>
  );
};
