import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { DeletionServiceClient } from '../../src/gen/deletion/v1/deletion_service.js';
import type { DeletionRequest } from '../../src/gen/deletion/v1/deletion_request.js';
import {
  ApproveDeletionRequest,
  CancelDeletionRequest,
  ConfirmDeletionRequest,
  GetDeletionRequestRequest,
  ListDeletionRequestsRequest,
  type ListDeletionRequestsResponse,
  RejectDeletionRequest,
  GetErasureReportRequest,
  type ErasureReport,
  ReportErasureOutcomeRequest,
  type ReportErasureOutcomeResponse,
  ResolveParticipantRequest,
  RetryParticipantRequest,
  RequestDeletionRequest,
  UndeleteDeletionRequestRequest,
} from '../../src/gen/deletion/v1/deletion_service.js';
import { decodeRichError, type RichError } from '../../src/transports/grpc/grpc-errors.js';

/** A failed call: the gRPC code and the decoded google.rpc.Status details. */
export class CallError extends Error {
  constructor(
    readonly code: number,
    readonly rich: RichError | undefined,
  ) {
    super(`gRPC ${code}: ${rich?.reason ?? ''} ${rich?.message ?? ''}`);
  }
  get reason(): string {
    return this.rich?.reason ?? '';
  }
}

/** Credentials for one call: a bearer token, an API key, or none. */
export type Auth = { token: string } | { apiKey: string } | null;

type Unary<TReq, TRes> = (request: Partial<TReq>, auth: Auth) => Promise<TRes>;

export interface TestClient {
  requestDeletion: Unary<RequestDeletionRequest, DeletionRequest>;
  confirmDeletion: Unary<ConfirmDeletionRequest, DeletionRequest>;
  approveDeletion: Unary<ApproveDeletionRequest, DeletionRequest>;
  rejectDeletion: Unary<RejectDeletionRequest, DeletionRequest>;
  cancelDeletion: Unary<CancelDeletionRequest, DeletionRequest>;
  undeleteDeletionRequest: Unary<UndeleteDeletionRequestRequest, DeletionRequest>;
  getDeletionRequest: Unary<GetDeletionRequestRequest, DeletionRequest>;
  listDeletionRequests: Unary<ListDeletionRequestsRequest, ListDeletionRequestsResponse>;
  reportErasureOutcome: Unary<ReportErasureOutcomeRequest, ReportErasureOutcomeResponse>;
  retryParticipant: Unary<RetryParticipantRequest, DeletionRequest>;
  resolveParticipant: Unary<ResolveParticipantRequest, DeletionRequest>;
  getErasureReport: Unary<GetErasureReportRequest, ErasureReport>;
  close(): void;
}

const metadataFor = (auth: Auth): Metadata => {
  const metadata = new Metadata();
  if (auth && 'token' in auth) metadata.set('authorization', `Bearer ${auth.token}`);
  if (auth && 'apiKey' in auth) metadata.set('x-api-key', auth.apiKey);
  return metadata;
};

/** A plain grpc-js client over the generated stub, promisified, with a 10 s deadline per call. */
export const createTestClient = (address: string): TestClient => {
  const client = new DeletionServiceClient(address, credentials.createInsecure());
  const call =
    <TReq, TRes>(
      method: string,
      type: { fromPartial(value: Partial<TReq>): TReq },
    ): Unary<TReq, TRes> =>
    (request, auth) =>
      new Promise((resolve, reject) => {
        const fn = (client as unknown as Record<string, (...args: unknown[]) => void>)[
          method
        ]!.bind(client) as (
          req: TReq,
          md: Metadata,
          options: { deadline: number },
          cb: (error: ServiceError | null, response: TRes) => void,
        ) => void;
        fn(
          type.fromPartial(request),
          metadataFor(auth),
          { deadline: Date.now() + 10_000 },
          (error, response) => {
            if (error) reject(new CallError(error.code, decodeRichError(error.metadata)));
            else resolve(response);
          },
        );
      });
  return {
    requestDeletion: call('requestDeletion', RequestDeletionRequest),
    confirmDeletion: call('confirmDeletion', ConfirmDeletionRequest),
    approveDeletion: call('approveDeletion', ApproveDeletionRequest),
    rejectDeletion: call('rejectDeletion', RejectDeletionRequest),
    cancelDeletion: call('cancelDeletion', CancelDeletionRequest),
    undeleteDeletionRequest: call('undeleteDeletionRequest', UndeleteDeletionRequestRequest),
    getDeletionRequest: call('getDeletionRequest', GetDeletionRequestRequest),
    listDeletionRequests: call('listDeletionRequests', ListDeletionRequestsRequest),
    reportErasureOutcome: call('reportErasureOutcome', ReportErasureOutcomeRequest),
    retryParticipant: call('retryParticipant', RetryParticipantRequest),
    resolveParticipant: call('resolveParticipant', ResolveParticipantRequest),
    getErasureReport: call('getErasureReport', GetErasureReportRequest),
    close: () => client.close(),
  };
};

/** Awaits a rejected call and returns its CallError (fails the test if it resolved). */
export const callError = async (promise: Promise<unknown>): Promise<CallError> => {
  try {
    await promise;
  } catch (error) {
    if (error instanceof CallError) return error;
    throw error;
  }
  throw new Error('expected the call to fail, it succeeded');
};
