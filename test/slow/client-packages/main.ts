// A consumer of the published client packages: the consumer test (client-packages.test.ts)
// copies this file into a scratch project outside the repository, where it sees only the
// packed tarballs, type-checks it and runs it against a running service.
import { createDeletionClient, DeletionServiceError } from '@account-deletion/grpc-client';
import { deletionRequest_StateToJSON } from '@account-deletion/grpc-client/gen/deletion/v1/deletion_request.js';
import {
  createDeletionClient as createTrpcClient,
  isDeletionClientError,
  type DeletionRequestView,
} from '@account-deletion/trpc-client';
import { verifyErasureReportWithKeySet, type ReportKeySet } from '@account-deletion/erasure-report';

const need = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};
const name = need('DELETION_REQUEST');
const token = need('DELETION_TOKEN');

const grpc = createDeletionClient({ address: need('DELETION_ADDRESS'), auth: { token } });
const trpc = createTrpcClient({ url: need('DELETION_TRPC_URL'), token });
try {
  const viaGrpc = await grpc.getDeletionRequest({ name });
  const viaTrpc: DeletionRequestView = await trpc.getDeletionRequest.query({ name });
  const report = await grpc.getErasureReport({ name });
  const keys = (await (await fetch(need('DELETION_KEYS_URL'))).json()) as ReportKeySet;
  const content = verifyErasureReportWithKeySet(report, keys);

  const missing = 'deletionRequests/00000000000000000000000000';
  const grpcError = await grpc.getDeletionRequest({ name: missing }).then(
    () => 'answered',
    (error: unknown) => (error instanceof DeletionServiceError ? error.code : 'other error'),
  );
  const trpcError = await trpc.getDeletionRequest.query({ name: missing }).then(
    () => 'answered',
    (error: unknown) => (isDeletionClientError(error) ? error.data?.code : 'other error'),
  );
  console.log(
    JSON.stringify({
      grpcState: deletionRequest_StateToJSON(viaGrpc.state),
      trpcState: viaTrpc.state,
      participants: content.participants.map((p) => p.name),
      grpcError,
      trpcError,
    }),
  );
} finally {
  grpc.close();
}
