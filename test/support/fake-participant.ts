import {
  Server,
  ServerCredentials,
  status,
  type ServerUnaryCall,
  type sendUnaryData,
} from '@grpc/grpc-js';
import {
  ErasureParticipantServiceService,
  type EraseRequest,
  type EraseResponse,
  type Subject,
} from '../../src/gen/deletion/participant/v1/erasure_participant_service.js';

/** How a fake linked service behaves. */
export interface FakeBehaviour {
  /** Milliseconds before each answer. */
  delayMs?: number;
  /** Fail this many first Erase calls with this status. */
  failFirst?: number;
  failWith?: status;
  /** Answer ACCEPTED, expecting to report by this time. */
  acceptUntil?: Date;
  /** Answer about another subject. */
  mismatch?: boolean;
  /** Fail Suspend/Restore calls until this many have been made (counting all of them). */
  failNoticesFirst?: number;
  /** Called when an Erase arrives and when its answer has been sent (fault injection). */
  onErase?: (stage: 'received' | 'answered') => void;
  /** The final answer (default: ERASED 3 records). */
  outcome?: EraseResponse['outcome'];
}

/** A real gRPC linked service on 127.0.0.1 that records every call and applies each erase once. */
export interface FakeParticipant extends AsyncDisposable {
  readonly name: string;
  readonly address: string;
  readonly calls: string[];
  /** The caller of each Erase in `calls` (its connection's address: one per replica). */
  readonly callers: string[];
  /** The subject id of every call, whatever the method. */
  readonly subjectIds: string[];
  /** The data categories of every Erase, joined with `+` (empty: all). */
  readonly categories: string[];
  /** Suspend and Restore calls, as `suspend:<request>` / `restore:<request>`. */
  readonly notices: string[];
  /** Requests whose erase took effect, each once (idempotent on the request id). */
  readonly effects: Set<string>;
  /** Erase calls answered (successfully or not) so far. */
  readonly answered: number;
  behaviour: FakeBehaviour;
  /** The most Erase calls in flight at once, across all fakes sharing `inFlight`. */
  readonly inFlight: { now: number; max: number };
}

export const startFakeParticipant = async (
  name: string,
  behaviour: FakeBehaviour = {},
  inFlight = { now: 0, max: 0 },
): Promise<FakeParticipant> => {
  const server = new Server();
  const fake = {
    name,
    calls: [] as string[],
    callers: [] as string[],
    subjectIds: [] as string[],
    categories: [] as string[],
    notices: [] as string[],
    effects: new Set<string>(),
    answered: 0,
    behaviour,
    inFlight,
  };
  const erase = (
    call: ServerUnaryCall<EraseRequest, EraseResponse>,
    callback: sendUnaryData<EraseResponse>,
  ) => {
    const id = call.request.subject?.deletionRequest ?? '';
    fake.calls.push(id);
    fake.callers.push(call.getPeer());
    fake.subjectIds.push(call.request.subject?.subjectId ?? '');
    fake.categories.push(call.request.categories.join('+'));
    inFlight.now += 1;
    inFlight.max = Math.max(inFlight.max, inFlight.now);
    const b = fake.behaviour;
    b.onErase?.('received');
    setTimeout(() => {
      inFlight.now -= 1;
      fake.answered += 1;
      if ((b.failFirst ?? 0) >= fake.calls.filter((c) => c === id).length) {
        callback({ code: b.failWith ?? status.UNAVAILABLE, details: 'injected failure' });
        return;
      }
      fake.effects.add(id);
      const subject = b.mismatch
        ? { deletionRequest: id, subjectId: 'someone-else' }
        : call.request.subject;
      const outcome: EraseResponse['outcome'] = b.acceptUntil
        ? { $case: 'accepted', value: { expectedBy: b.acceptUntil } }
        : (b.outcome ?? { $case: 'erased', value: { records: '3', categories: ['profile'] } });
      callback(null, { subject, outcome });
      b.onErase?.('answered');
    }, b.delayMs ?? 0);
  };
  interface Echo {
    subject?: Subject | undefined;
  }
  const notice =
    (phase: 'suspend' | 'restore') =>
    (call: ServerUnaryCall<Echo, Echo>, callback: sendUnaryData<Echo>) => {
      fake.notices.push(`${phase}:${call.request.subject?.deletionRequest ?? ''}`);
      fake.subjectIds.push(call.request.subject?.subjectId ?? '');
      if ((fake.behaviour.failNoticesFirst ?? 0) >= fake.notices.length) {
        callback({ code: status.UNAVAILABLE, details: 'injected failure' });
        return;
      }
      callback(null, { subject: call.request.subject });
    };
  server.addService(ErasureParticipantServiceService, {
    erase,
    suspend: notice('suspend'),
    restore: notice('restore'),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return Object.assign(fake, {
    address: `127.0.0.1:${String(port)}`,
    // Calls still held (a hung service) are cut after a second.
    [Symbol.asyncDispose]: () =>
      new Promise<void>((resolve) => {
        const cut = setTimeout(() => server.forceShutdown(), 1000);
        server.tryShutdown(() => {
          clearTimeout(cut);
          resolve();
        });
      }),
  });
};

/** The PARTICIPANTS configuration for a set of fakes. */
export const participantsConfig = (
  fakes: readonly FakeParticipant[],
  extra: Partial<{
    maxAttempts: number;
    timeoutMs: number;
    after: Record<string, string[]>;
    phases: string[];
    /** Services given the subject's pseudonym instead of its id. */
    pseudonymous: readonly string[];
    categories: Record<string, string[]>;
    /** Owning teams (and their alerts' webhooks), by service. */
    owners: Record<string, { team: string; webhook?: string }>;
    /** The legal basis each service cites when it keeps something. */
    legalBasis: Record<string, string>;
  }> = {},
): string =>
  JSON.stringify(
    fakes.map((fake) => ({
      name: fake.name,
      address: fake.address,
      maxAttempts: extra.maxAttempts ?? 5,
      timeoutMs: extra.timeoutMs ?? 2000,
      phases: extra.phases ?? ['erase'],
      after: extra.after?.[fake.name] ?? [],
      subjectId: extra.pseudonymous?.includes(fake.name) ? 'pseudonym' : 'real',
      categories: extra.categories?.[fake.name] ?? [],
      owner: extra.owners?.[fake.name],
      legalBasis: extra.legalBasis?.[fake.name],
    })),
  );
