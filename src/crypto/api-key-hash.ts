import { createHash } from 'node:crypto';

/** SHA-256 of an API key, the only form in which keys are stored. */
export const hashApiKey = (key: string): string =>
  createHash('sha256').update(key).digest('base64url');
