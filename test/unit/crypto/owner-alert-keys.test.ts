import { hkdfSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ownerAlertSecret } from '../../../src/crypto/owner-alert-keys.js';

describe('owner alert secrets', () => {
  it('are the documented derivation, which receivers compute on their side', () => {
    // docs/behaviour.md: HKDF-SHA256(AUDIT_KEY, no salt, info account-deletion/owner-alert/v1:<service>, 32 bytes), hex.
    const documented = Buffer.from(
      hkdfSync('sha256', 'an-audit-key', '', 'account-deletion/owner-alert/v1:billing', 32),
    ).toString('hex');
    expect(ownerAlertSecret('an-audit-key', 'billing')).toBe(documented);
    expect(ownerAlertSecret('an-audit-key', 'ledger')).not.toBe(documented);
  });
});
