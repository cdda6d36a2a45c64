import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type ReactNode } from 'react';
import { api, describeError, type RequestView } from '../api.js';
import { useAllowed, useViewer } from '../viewer.js';
import { Badge, Field, FINAL_STATES, Pending, TraceLink, useNow, when } from '../format.js';
import { checkReport } from '../report.js';
import { useLinkedServices } from '../linked-services.js';

type Participant = RequestView['participants'][number];

/** One line of a request's timeline. */
interface Moment {
  readonly time: string;
  readonly what: ReactNode;
  readonly who?: string;
  readonly traceId?: string;
}

/** Everything that happened to a request, oldest first: states, answers, notices, the extension. */
const timelineOf = (request: RequestView): Moment[] =>
  [
    ...request.history.map((change) => ({
      time: change.time,
      what: (
        <>
          <Badge value={change.fromState} /> → <Badge value={change.toState} />{' '}
          <span className="muted">{change.note}</span>
        </>
      ),
      who: `${change.actor.kind.toLowerCase()} ${change.actor.id}`,
      traceId: change.traceId,
    })),
    ...request.participants
      .filter((step) => step.attempts > 0 || step.outcome !== null)
      .map((step) => ({
        time: step.updateTime,
        what: (
          <>
            <strong>{step.participant}</strong>: <Badge value={step.status} /> after {step.attempts}{' '}
            attempt{step.attempts === 1 ? '' : 's'}
            {step.outcome && <> — {step.outcome.kind}</>}
            {step.lastErrorCode && <span className="error"> last error {step.lastErrorCode}</span>}
          </>
        ),
      })),
    ...request.sentNotices.map((notice) => ({
      time: notice.sendTime,
      what: (
        <>
          Notice <strong>{notice.kind}</strong> {notice.outcome.toLowerCase()}
          {notice.channel && <> by {notice.channel}</>}
        </>
      ),
    })),
    ...request.ownerAlerts.map((alert) => ({
      time: alert.settleTime ?? alert.oweTime,
      what: (
        <>
          Alert to <strong>{alert.team}</strong> (owner of {alert.linkedService}):{' '}
          <Badge value={alert.status} />
          {alert.attempts > 1 && <> after {alert.attempts} attempts</>}
        </>
      ),
      traceId: alert.traceId,
    })),
    ...(request.deadlineExtension
      ? [
          {
            time: request.deadlineExtension.extendTime,
            what: (
              <>
                Deadline extended from {when(request.deadlineExtension.previousDeadline)}:{' '}
                {request.deadlineExtension.reason}
              </>
            ),
            who: request.deadlineExtension.actor.id,
            traceId: request.deadlineExtension.traceId,
          },
        ]
      : []),
  ].sort((a, b) => a.time.localeCompare(b.time));

/**
 * One request's whole story: where it stands and why, its timeline with
 * trace links, each linked service's progress, its signed report and
 * whether it verifies, and the actions the viewer may take. It follows the
 * request live (the watch subscription) while the screen is open.
 */
export const RequestScreen = ({ id }: { readonly id: string }) => {
  const name = `deletionRequests/${id}`;
  const { traceUrlTemplate } = useViewer();
  const queries = useQueryClient();
  const request = useQuery({
    queryKey: ['request', name],
    queryFn: () => api.getDeletionRequest.query({ name }),
  });
  const [live, setLive] = useState(false);
  useEffect(() => {
    const subscription = api.watchDeletionRequest.subscribe(
      { name },
      {
        onStarted: () => setLive(true),
        onData: ({ data }) => {
          if (data.kind === 'RECONNECT') return;
          queries.setQueryData(['request', name], data.request);
          void queries.invalidateQueries({ queryKey: ['plan', name] });
        },
        onError: () => setLive(false),
      },
    );
    return () => subscription.unsubscribe();
  }, [name, queries]);
  if (request.isPending || request.isError)
    return <Pending error={request.isError ? describeError(request.error) : null} />;
  const view = request.data;
  return (
    <section>
      <h1>
        Request {id} <Badge value={view.state} />{' '}
        <span className={live ? 'live on' : 'live'}>{live ? 'live' : 'not live'}</span>
      </h1>
      <Actions request={view} />
      <div className="columns">
        <dl className="facts">
          <Field label="Subject">{view.subjectId}</Field>
          <Field label="Requested by">{`${view.requester.kind.toLowerCase()} ${view.requester.id}`}</Field>
          <Field label="Reason">{view.reason || '—'}</Field>
          <Field label="Risk">{view.riskReasons.join(', ') || 'none'}</Field>
          <Field label="Jurisdiction">{view.jurisdiction}</Field>
          <Field label="Legal deadline">
            <span className={new Date(view.legalDeadline) < new Date() ? 'overdue' : ''}>
              {when(view.legalDeadline)}
            </span>
            {view.deadlineExtension && ' (extended)'}
          </Field>
          <Field label="Reviewer">
            {view.reviewer
              ? `${view.reviewer.id}${view.reviewNote ? `: ${view.reviewNote}` : ''}`
              : '—'}
          </Field>
          <Field label="Purge">{when(view.purgeTime)}</Field>
          <Field label="Completed">{when(view.completeTime)}</Field>
          <Field label="Created in trace">
            <TraceLink traceId={view.createTraceId} template={traceUrlTemplate} />
          </Field>
        </dl>
        <Plan name={name} state={view.state} />
      </div>
      <h2>Linked services</h2>
      <Participants request={view} />
      <h2>Timeline</h2>
      <Timeline request={view} />
      {view.state === 'COMPLETED' && <Report name={name} />}
    </section>
  );
};

const Timeline = ({ request }: { readonly request: RequestView }) => {
  const template = useViewer().traceUrlTemplate;
  return (
    <ol className="timeline">
      {timelineOf(request).map((moment, index) => (
        <li key={index}>
          <time dateTime={moment.time}>{when(moment.time)}</time>
          <span className="what">{moment.what}</span>
          {moment.who && <span className="muted"> by {moment.who}</span>}
          {moment.traceId !== undefined && (
            <>
              {' '}
              <TraceLink traceId={moment.traceId} template={template} />
            </>
          )}
        </li>
      ))}
    </ol>
  );
};

/** Why the request is not erased yet, from the service's dry run of the purge. */
const Plan = ({ name, state }: { readonly name: string; readonly state: RequestView['state'] }) => {
  const allowed = useAllowed('getErasurePlan');
  const plan = useQuery({
    queryKey: ['plan', name],
    queryFn: () => api.getErasurePlan.query({ name }),
    enabled: allowed && !FINAL_STATES.includes(state),
  });
  if (!allowed || FINAL_STATES.includes(state) || plan.data === undefined) return null;
  return (
    <div className="plan">
      <h3>What the purge would do now</h3>
      <p>
        {plan.data.blocker === 'NONE' ? (
          'Nothing holds it: the next worker pass erases it.'
        ) : (
          <>
            Held by <Badge value={plan.data.blocker} />
            {plan.data.startAt && <> until {when(plan.data.startAt)}</>}
          </>
        )}
      </p>
      <ul>
        {plan.data.calls.map((call) => (
          <li key={call.participant}>
            {call.participant}: <Badge value={call.action} />
            {call.time && <> at {when(call.time)}</>}
            {call.waitingFor.length > 0 && <> after {call.waitingFor.join(', ')}</>}
          </li>
        ))}
      </ul>
    </div>
  );
};

/** Each linked service's owning team, from the registry (when the viewer may read it). */
const useOwners = (): ReadonlyMap<string, string> => {
  const services = useLinkedServices(useAllowed('listLinkedServices'));
  return new Map(
    (services.data ?? []).flatMap((service) =>
      service.owner === null ? [] : [[service.name, service.owner.team] as const],
    ),
  );
};

const Participants = ({ request }: { readonly request: RequestView }) => {
  const owners = useOwners();
  if (request.participants.length === 0)
    return <p className="muted">No linked service has been asked yet.</p>;
  return (
    <table className="participants">
      <thead>
        <tr>
          <th>Service</th>
          <th>Owner</th>
          <th>Status</th>
          <th>Attempts</th>
          <th>Last error</th>
          <th>Next attempt / report due</th>
          <th>Answer</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {request.participants.map((step) => (
          <tr key={step.participant}>
            <td>{step.participant}</td>
            <td>{owners.get(step.participant) ?? '—'}</td>
            <td>
              <Badge value={step.status} />
            </td>
            <td>{step.attempts}</td>
            <td>{step.lastErrorCode ?? '—'}</td>
            <td>{when(step.nextAttemptTime ?? step.expectedBy)}</td>
            <td>
              <Outcome step={step} />
            </td>
            <td>
              {request.state === 'NEEDS_ATTENTION' && step.status === 'FAILED' && (
                <StepActions request={request} step={step} />
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
};

const Outcome = ({ step }: { readonly step: Participant }) => {
  const outcome = step.outcome;
  if (outcome === null) return <span className="muted">—</span>;
  switch (outcome.kind) {
    case 'ERASED':
      return (
        <>
          erased {outcome.records} ({outcome.categories.join(', ') || 'all'})
        </>
      );
    case 'NOTHING_FOUND':
      return <>nothing found</>;
    case 'RETAINED':
      return (
        <>
          kept {outcome.categories.join(', ')} under {outcome.legalBasis}
          {outcome.until && <> until {when(outcome.until)}</>}
        </>
      );
    case 'MANUAL':
      return (
        <>
          resolved by {outcome.resolvedBy}: {outcome.justification}
        </>
      );
  }
};

/** Runs a mutation and refreshes the request (and lists) with its answer. */
const useRequestMutation = <TInput,>(
  name: string,
  call: (input: TInput) => Promise<RequestView>,
) => {
  const queries = useQueryClient();
  return useMutation({
    mutationFn: call,
    onSuccess: (updated) => {
      queries.setQueryData(['request', name], updated);
      void queries.invalidateQueries({ queryKey: ['requests'] });
      void queries.invalidateQueries({ queryKey: ['plan', name] });
    },
  });
};

const Failure = ({ error }: { readonly error: unknown }) =>
  error ? (
    <p role="alert" className="error">
      {describeError(error)}
    </p>
  ) : null;

/**
 * The four-eyes rule as the service applies it to reviewing, resolving and
 * extending: the viewer is neither the requester nor the subject. Said
 * before the service would refuse.
 */
const useSecondPerson = (request: RequestView): boolean => {
  const { actor } = useViewer();
  return actor.id !== request.requester.id && actor.id !== request.subjectId;
};

const FOUR_EYES =
  'You made this request or it is about you. Four eyes: another person must review, extend or resolve it.';

/** Retry a failed linked service, or resolve it by hand with a justification (administrators). */
const StepActions = ({
  request,
  step,
}: {
  readonly request: RequestView;
  readonly step: Participant;
}) => {
  const canRetry = useAllowed('retryParticipant');
  const secondPerson = useSecondPerson(request);
  const canResolve = useAllowed('resolveParticipant') && secondPerson;
  const [justification, setJustification] = useState('');
  const [records, setRecords] = useState('0');
  const retry = useRequestMutation(request.name, () =>
    api.retryParticipant.mutate({
      name: request.name,
      participant: step.participant,
      etag: request.etag,
    }),
  );
  const resolve = useRequestMutation(request.name, () =>
    api.resolveParticipant.mutate({
      name: request.name,
      participant: step.participant,
      justification,
      records: Number(records),
      etag: request.etag,
    }),
  );
  if (!canRetry && !canResolve) return null;
  const submit = (event: { preventDefault(): void }) => {
    event.preventDefault();
    resolve.mutate(undefined);
  };
  const valid = justification.trim().length >= 10 && /^[0-9]{1,12}$/.test(records);
  return (
    <div className="step-actions">
      {canRetry && (
        <button type="button" onClick={() => retry.mutate(undefined)} disabled={retry.isPending}>
          Retry {step.participant}
        </button>
      )}
      {canResolve && (
        <form onSubmit={submit}>
          <input
            aria-label={`Why ${step.participant} is resolved by hand`}
            placeholder="Justification (at least 10 characters)"
            value={justification}
            onChange={(event) => setJustification(event.target.value)}
          />
          <input
            aria-label={`Records ${step.participant} erased by hand`}
            className="records"
            inputMode="numeric"
            value={records}
            onChange={(event) => setRecords(event.target.value.trim())}
          />
          <button type="submit" disabled={!valid || resolve.isPending}>
            Resolve {step.participant}
          </button>
        </form>
      )}
      <Failure error={retry.error ?? resolve.error} />
    </div>
  );
};

/**
 * The actions the viewer's scopes allow on this request in its state, each
 * with its own input: a reject note stays internal, an extension's reason is
 * what the subject is told. The four-eyes rule is explained before the
 * service would refuse; a cancel asks to be confirmed.
 */
const Actions = ({ request }: { readonly request: RequestView }) => {
  const now = useNow();
  const secondPerson = useSecondPerson(request);
  const canApprove = useAllowed('approveDeletion');
  const canReject = useAllowed('rejectDeletion');
  const canExtend = useAllowed('extendDeadline');
  const canCancel = useAllowed('cancelDeletion');
  const [note, setNote] = useState('');
  const [reason, setReason] = useState('');
  const [cancelling, setCancelling] = useState(false);
  const approve = useRequestMutation(request.name, () =>
    api.approveDeletion.mutate({ name: request.name, etag: request.etag }),
  );
  const reject = useRequestMutation(request.name, () =>
    api.rejectDeletion.mutate({ name: request.name, reason: note, etag: request.etag }),
  );
  const extend = useRequestMutation(request.name, () =>
    api.extendDeadline.mutate({ name: request.name, reason, etag: request.etag }),
  );
  const cancel = useRequestMutation(request.name, () =>
    api.cancelDeletion.mutate({ name: request.name, etag: request.etag }),
  );
  const awaiting = request.state === 'AWAITING_APPROVAL';
  const open = !FINAL_STATES.includes(request.state);
  const offers = {
    review: awaiting && (canApprove || canReject),
    // One extension, before the deadline has passed (the service refuses it after).
    extend:
      canExtend &&
      open &&
      request.deadlineExtension === null &&
      Date.parse(request.legalDeadline) > now,
    cancel: canCancel && (request.state === 'REQUESTED' || awaiting),
  };
  if (!offers.review && !offers.extend && !offers.cancel) return null;
  return (
    <div className="actions" aria-label="Actions">
      {(offers.review || offers.extend) && !secondPerson && <p className="notice">{FOUR_EYES}</p>}
      {offers.review && (
        <div className="action">
          <input
            aria-label="Review note"
            placeholder="Note (a rejection needs one; internal)"
            value={note}
            onChange={(event) => setNote(event.target.value)}
          />
          {canApprove && (
            <button
              type="button"
              disabled={!secondPerson || approve.isPending}
              onClick={() => approve.mutate(undefined)}
            >
              Approve
            </button>
          )}
          {canReject && (
            <button
              type="button"
              disabled={!secondPerson || note.trim() === '' || reject.isPending}
              onClick={() => reject.mutate(undefined)}
            >
              Reject
            </button>
          )}
        </div>
      )}
      {offers.extend && (
        <div className="action">
          <input
            aria-label="Extension reason"
            placeholder="Why more time is needed (the subject is told; at least 10 characters)"
            value={reason}
            onChange={(event) => setReason(event.target.value)}
          />
          <button
            type="button"
            disabled={!secondPerson || reason.trim().length < 10 || extend.isPending}
            onClick={() => extend.mutate(undefined)}
          >
            Extend deadline
          </button>
        </div>
      )}
      {offers.cancel && (
        <div className="action">
          {cancelling ? (
            <>
              <span>Cancel this request for good?</span>
              <button
                type="button"
                className="danger"
                disabled={cancel.isPending}
                onClick={() => cancel.mutate(undefined)}
              >
                Yes, cancel it
              </button>
              <button type="button" className="link" onClick={() => setCancelling(false)}>
                Keep it
              </button>
            </>
          ) : (
            <button type="button" className="danger" onClick={() => setCancelling(true)}>
              Cancel request
            </button>
          )}
        </div>
      )}
      <Failure error={approve.error ?? reject.error ?? extend.error ?? cancel.error} />
    </div>
  );
};

/** The signed report, verified here against the service's published key set. */
const Report = ({ name }: { readonly name: string }) => {
  const report = useQuery({
    queryKey: ['report', name],
    queryFn: async () => {
      const signed = await api.getErasureReport.query({ name });
      return { signed, check: await checkReport(signed) };
    },
    staleTime: Infinity,
  });
  if (report.isPending || report.isError)
    return <Pending error={report.isError ? describeError(report.error) : null} />;
  const { check } = report.data;
  return (
    <div className="report">
      <h2>Erasure report</h2>
      {check.verified ? (
        <p className="verified">
          ✔ The signature verifies with key <code>{check.keyId.slice(0, 12)}…</code> of the
          published key set.
        </p>
      ) : (
        <p role="alert" className="error">
          ✘ The report does not verify: {check.problem}.
        </p>
      )}
      {check.verified && (
        <table className="report-services">
          <thead>
            <tr>
              <th>Linked service</th>
              <th>Owner</th>
              <th>Holds (registered)</th>
              <th>Answer</th>
              <th>Kept, and why</th>
            </tr>
          </thead>
          <tbody>
            {check.content.participants.map((participant) => (
              <tr key={participant.name}>
                <td>{participant.name}</td>
                <td>{participant.registered?.team ?? '—'}</td>
                <td>
                  {participant.registered === undefined
                    ? '—'
                    : participant.registered === null
                      ? 'no longer registered'
                      : participant.registered.categories.join(', ') || 'all it holds'}
                </td>
                <td>
                  {participant.outcome}, {participant.records} records
                  {participant.categories.length > 0 && <> ({participant.categories.join(', ')})</>}
                  {participant.justification && <> — {participant.justification}</>}
                </td>
                <td>
                  {participant.legalBasis === null ? (
                    'nothing'
                  ) : (
                    <>
                      {participant.legalBasis}
                      {participant.retainedUntil && <> until {when(participant.retainedUntil)}</>}
                      {participant.legalBasisSource === 'REGISTRATION' && (
                        <span className="muted"> (the registered basis)</span>
                      )}
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
};
