import { hkdfSync } from 'node:crypto';

const DERIVATION_LABEL = 'account-deletion/owner-alert/v1:';

/**
 * The secret that signs the alerts to one linked service's owner (hex):
 * HKDF-SHA256 of `keyMaterial` (AUDIT_KEY), no salt, info
 * `account-deletion/owner-alert/v1:<service>`, 32 bytes. One per service, so
 * a team that holds its own cannot sign another's alerts.
 */
export const ownerAlertSecret = (keyMaterial: string, service: string): string =>
  Buffer.from(hkdfSync('sha256', keyMaterial, '', `${DERIVATION_LABEL}${service}`, 32)).toString(
    'hex',
  );
