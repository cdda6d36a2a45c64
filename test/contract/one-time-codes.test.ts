import { createHmacOneTimeCodes } from '../../src/crypto/hmac-one-time-codes.js';
import { fakeOneTimeCodes } from '../support/fakes/one-time-codes.js';
import { describeOneTimeCodesContract } from './one-time-codes.contract.js';

describeOneTimeCodesContract('in-memory fake', (digits) => fakeOneTimeCodes({ digits }));

describeOneTimeCodesContract('HMAC adapter', (digits) =>
  createHmacOneTimeCodes({ key: 'test-only-otp-key-0123456789abcdef', digits }),
);
