#!/usr/bin/env node
// Runs the participant contract's rules against a linked service (the package's
// `participant-conformance` bin; `npm run conformance` in the repository):
//   npm run conformance -- --address 127.0.0.1:50061 [--subject alice] [--timeout-ms 5000]
//     [--tls] [--ca ca.pem] [--cert client.pem --key client-key.pem]
// --tls: TLS with the system's CAs; --ca: with these; --cert/--key: mutual TLS.
// Exit code 0 when every rule passes, 1 when one fails, 2 on bad usage.
import { readFileSync } from 'node:fs';
import { credentials } from '@grpc/grpc-js';
import { parseArgs } from 'node:util';
import { checkParticipant } from './check-participant.js';

const usage =
  'usage: conformance --address host:port [--subject id] [--timeout-ms n] [--tls] [--ca file] [--cert file --key file]';
let values;
try {
  ({ values } = parseArgs({
    options: {
      address: { type: 'string' },
      subject: { type: 'string' },
      'timeout-ms': { type: 'string', default: '5000' },
      tls: { type: 'boolean', default: false },
      ca: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
    },
  }));
} catch (error) {
  console.error(`${error instanceof Error ? error.message : String(error)}\n${usage}`);
  process.exit(2);
}
if (
  values.address === undefined ||
  !Number.isInteger(Number(values['timeout-ms'])) ||
  (values.cert === undefined) !== (values.key === undefined)
) {
  console.error(usage);
  process.exit(2);
}
const pem = (path: string | undefined): Buffer | null => {
  if (path === undefined) return null;
  try {
    return readFileSync(path);
  } catch {
    console.error(`cannot read ${path}\n${usage}`);
    return process.exit(2);
  }
};
const secure = values.tls || values.ca !== undefined || values.cert !== undefined;
const results = await checkParticipant({
  address: values.address,
  timeoutMs: Number(values['timeout-ms']),
  ...(values.subject === undefined ? {} : { subjectWithData: values.subject }),
  ...(secure
    ? { credentials: credentials.createSsl(pem(values.ca), pem(values.key), pem(values.cert)) }
    : {}),
});
for (const result of results)
  console.log(`${result.passed ? 'PASS' : 'FAIL'}  ${result.rule}\n      ${result.detail}`);
const failed = results.filter((result) => !result.passed).length;
console.log(
  failed === 0 ? `all ${String(results.length)} rules pass` : `${String(failed)} rule(s) fail`,
);
process.exit(failed === 0 ? 0 : 1);
