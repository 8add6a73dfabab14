import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Keeps insurers' webhook signing secrets encrypted at rest. The secret must be recoverable to sign (an HMAC key
 * cannot be stored as a hash), so it is sealed with AES-256-GCM under a key derived (HKDF-SHA256) from
 * WEBHOOK_SECRET_KEY, which lives in the deployment's secret store, not in the database. The insurer id is the
 * additional authenticated data: a ciphertext copied onto another insurer's row does not open.
 *
 * Stored bytes: version (1) ‖ IV (12) ‖ GCM tag (16) ‖ ciphertext.
 */
export class WebhookSecretCipher {
  private readonly key: Buffer;

  constructor(masterKey: string) {
    this.key = Buffer.from(hkdfSync('sha256', masterKey, 'claimchain', 'payout-webhook-secret/v1', 32));
  }

  /** A fresh signing secret for an insurer: 32 random bytes, `whsec_` + base64url. */
  static generate(): string {
    return `whsec_${randomBytes(32).toString('base64url')}`;
  }

  seal(insurerId: string, secret: string): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(insurerId, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.of(VERSION), iv, cipher.getAuthTag(), ciphertext]);
  }

  /** Throws if the bytes were not sealed for this insurer under this key (tampered, moved, or another key). */
  open(insurerId: string, sealed: Buffer): string {
    if (sealed[0] !== VERSION) throw new Error(`unknown webhook secret format ${sealed[0]}`);
    const iv = sealed.subarray(1, 1 + IV_BYTES);
    const tag = sealed.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.key, iv);
    decipher.setAAD(Buffer.from(insurerId, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(sealed.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
      'utf8',
    );
  }
}
