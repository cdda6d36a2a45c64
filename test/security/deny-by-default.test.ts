import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operationPolicies, operations } from '../../src/domain/authorization.js';
import { principalLimits } from '../../src/domain/rate-limits.js';
import { scopes, type Principal } from '../../src/domain/principal.js';
import { DeletionServiceService } from '../../src/gen/deletion/v1/deletion_service.js';
import { rpcOperations } from '../../src/transports/grpc/deletion-handlers.js';
import { createDeletionRouter } from '../../src/transports/trpc/router.js';
import { callError, type Auth } from '../support/grpc-test-client.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { mintToken } from '../support/tokens.js';

const RESOURCE_EXHAUSTED = 8;

/** Every scope: the calls must get past nothing but the rate limit to show it is there. */
const everything = scopes.join(' ');

describe('deny by default: every call has an operation, a policy and a rate-limit class', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      RATE_LIMIT_MUTATIONS: '1',
      RATE_LIMIT_READS: '1',
      RATE_LIMIT_OUTCOME_REPORTS: '1',
    });
  });
  afterAll(async () => t[Symbol.asyncDispose]());

  const procedures = () => createDeletionRouter(t.app.service)._def.procedures;

  it('maps every gRPC method and every tRPC procedure to an operation', () => {
    const methods = Object.keys(DeletionServiceService);
    expect(Object.keys(rpcOperations).sort()).toEqual(methods.sort());
    for (const operation of Object.values(rpcOperations)) expect(operations).toContain(operation);
    // A procedure is named after the operation whose use case it calls.
    for (const procedure of Object.keys(procedures())) expect(operations).toContain(procedure);
  });

  it('gives every operation an authorization policy and a rate-limit class', () => {
    for (const operation of operations) {
      const policy = operationPolicies[operation];
      expect(policy.anySubject.length > 0 || policy.ownSubject, operation).toBe(true);
      expect(principalLimits, operation).toContain(policy.rateLimit);
    }
  });

  it('rate-limits every gRPC method: the second call of a principal with a budget of one is refused', async () => {
    for (const method of Object.keys(rpcOperations)) {
      const auth: Auth = { token: await mintToken({ sub: `grpc-${method}`, scope: everything }) };
      const call = (
        t.client as unknown as Record<string, (r: object, a: Auth) => Promise<unknown>>
      )[method];
      if (!call) throw new Error(`the client has no ${method}`);
      await call({}, auth).catch(() => undefined);
      const refused = await callError(call({}, auth));
      expect([method, refused.code, refused.reason]).toEqual([
        method,
        RESOURCE_EXHAUSTED,
        'RATE_LIMITED',
      ]);
    }
  });

  it('rate-limits every tRPC procedure, subscriptions included', async () => {
    const router = createDeletionRouter(t.app.service);
    for (const procedure of Object.keys(procedures())) {
      const principal: Principal = {
        actor: { kind: 'SERVICE', id: `trpc-${procedure}` },
        scopes: new Set(scopes),
        ownSubjectId: null,
        authTime: null,
        amr: [],
      };
      const caller = router.createCaller({
        principal: () => Promise.resolve(principal),
        traceHeaders: {},
      }) as unknown as Record<string, (input: object) => Promise<unknown>>;
      const call = async (): Promise<unknown> => {
        const result = await caller[procedure]?.({});
        // A subscription fails on its first event.
        if (result && typeof result === 'object' && Symbol.asyncIterator in result)
          for await (const event of result as AsyncIterable<unknown>) return event;
        return result;
      };
      await call().catch(() => undefined);
      const refused = await call().then(
        () => undefined,
        (error: unknown) => error as { code?: string; cause?: { reason?: string } },
      );
      expect([procedure, refused?.code, refused?.cause?.reason]).toEqual([
        procedure,
        'TOO_MANY_REQUESTS',
        'RATE_LIMITED',
      ]);
    }
  });
});
