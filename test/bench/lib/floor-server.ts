// The floors of the request-path benchmarks, as a child process of its own (one
// event loop, like a replica): a bare grpc-js server with the same
// DeletionService definition, and a bare node:http handler, each doing the one
// driver call the use case cannot avoid (findOne by id for a read, insertOne for
// a request) on the same database. No authentication, rate limit, audit, tracing
// or validation: that is the point of a floor. Configured by the environment
// (MONGODB_URI, MONGODB_DB); tells the parent its ports over IPC. Besides, a
// pair without any database: tRPC's adapter alone against node:http alone.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  Server,
  ServerCredentials,
  status,
  type sendUnaryData,
  type ServerUnaryCall,
} from '@grpc/grpc-js';
import { initTRPC } from '@trpc/server';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import mongoose from 'mongoose';
import { z } from 'zod';
import {
  Actor_Kind,
  DeletionRequest,
  DeletionRequest_State,
} from '../../../src/gen/deletion/v1/deletion_request.js';
import {
  DeletionServiceService,
  type GetDeletionRequestRequest,
  type RequestDeletionRequest,
} from '../../../src/gen/deletion/v1/deletion_service.js';

interface StoredRequest {
  _id: string;
  subjectId: string;
  state: string;
  reason: string;
  createdAt: Date;
  updatedAt: Date;
  requester?: { kind: string; id: string };
}

const client = await new mongoose.mongo.MongoClient(process.env.MONGODB_URI ?? '').connect();
const db = client.db(process.env.MONGODB_DB ?? 'bench');
/** Reads see the service's own documents; inserts go to a collection of the floor's (no unique indexes). */
const requests = db.collection<StoredRequest>('deletion_requests');
const inserted = db.collection<StoredRequest>('floor_deletion_requests');

/** The stored request as the message both servers answer with: a handful of fields. */
const toMessage = (doc: StoredRequest): DeletionRequest =>
  DeletionRequest.fromPartial({
    name: `deletionRequests/${doc._id}`,
    state: DeletionRequest_State.STATE_REQUESTED,
    subjectId: doc.subjectId,
    requester: { kind: Actor_Kind.KIND_SERVICE, id: doc.requester?.id ?? '' },
    reason: doc.reason,
    createTime: doc.createdAt,
    updateTime: doc.updatedAt,
  });

const read = async (id: string): Promise<DeletionRequest | null> => {
  const doc = await requests.findOne({ _id: id });
  return doc && toMessage(doc);
};

const getDeletionRequest = (
  call: ServerUnaryCall<GetDeletionRequestRequest, DeletionRequest>,
  callback: sendUnaryData<DeletionRequest>,
): void => {
  read(call.request.name.replace('deletionRequests/', '')).then(
    (found) => {
      if (found) callback(null, found);
      else callback({ code: status.NOT_FOUND, details: 'not found' });
    },
    (error: unknown) => {
      callback({ code: status.UNAVAILABLE, details: String(error) });
    },
  );
};

const requestDeletion = (
  call: ServerUnaryCall<RequestDeletionRequest, DeletionRequest>,
  callback: sendUnaryData<DeletionRequest>,
): void => {
  const now = new Date();
  const doc: StoredRequest = {
    _id: randomBytes(12).toString('hex'),
    subjectId: call.request.subjectId,
    state: 'REQUESTED',
    reason: call.request.reason,
    createdAt: now,
    updatedAt: now,
    requester: { kind: 'SERVICE', id: 'bench' },
  };
  inserted.insertOne(doc).then(
    () => {
      callback(null, toMessage(doc));
    },
    (error: unknown) => {
      callback({ code: status.UNAVAILABLE, details: String(error) });
    },
  );
};

const grpc = new Server();
grpc.addService(DeletionServiceService, {
  getDeletionRequest,
  requestDeletion,
});
const grpcPort = await new Promise<number>((resolve, reject) => {
  grpc.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, port) => {
    if (error) reject(error);
    else resolve(port);
  });
});

/**
 * tRPC's own cost, without the database or the service: a one-query router
 * that echoes its input, behind tRPC's standalone adapter at `/trpc/echo`,
 * against `GET /echo?name=…` answering the same JSON by hand.
 */
const t = initTRPC.create();
const echo = createHTTPHandler({
  router: t.router({
    echo: t.procedure
      .input(z.object({ name: z.string() }))
      .query(({ input }) => ({ name: input.name })),
  }),
  basePath: '/trpc/',
});

/** `GET /get?name=…`: the same read, answered as JSON; and the echo pair above. */
const http = createServer((request, response) => {
  if (request.url?.startsWith('/trpc/')) {
    echo(request, response);
    return;
  }
  const url = new URL(request.url ?? '/', 'http://localhost');
  if (url.pathname === '/echo') {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ result: { data: { name: url.searchParams.get('name') } } }));
    return;
  }
  const id = (url.searchParams.get('name') ?? '').replace('deletionRequests/', '');
  read(id).then(
    (found) => {
      response.writeHead(found ? 200 : 404, { 'content-type': 'application/json' });
      response.end(JSON.stringify(found && DeletionRequest.toJSON(found)));
    },
    () => {
      response.writeHead(503).end();
    },
  );
});
await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));

process.send?.({ grpcPort, httpPort: (http.address() as AddressInfo).port });
