import { keysFrom } from './aes-gcm.js';

const DERIVATION_LABEL = 'account-deletion/owner-alert/v1:';

/**
 * The secret that signs the alerts to one linked service's owner (hex):
 * HKDF-SHA256 of `keyMaterial` (AUDIT_KEY), no salt, info
 * `account-deletion/owner-alert/v1:<service>`, 32 bytes. One per service, so
 * a team that holds its own cannot sign another's alerts.
 */
export const ownerAlertSecret = (keyMaterial: string, service: string): string =>
  keysFrom(keyMaterial, '')(`${DERIVATION_LABEL}${service}`).toString('hex');
