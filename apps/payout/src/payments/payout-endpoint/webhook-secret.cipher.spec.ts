import { WebhookSecretCipher } from './webhook-secret.cipher';

describe(WebhookSecretCipher.name, () => {
  const cipher = new WebhookSecretCipher('a-master-key-of-at-least-32-chars!!');

  it('generates distinct 256-bit secrets', () => {
    const a = WebhookSecretCipher.generate();
    expect(a).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(WebhookSecretCipher.generate()).not.toBe(a);
  });

  it('opens what it sealed for the same insurer, and the stored bytes do not contain the secret', () => {
    const secret = WebhookSecretCipher.generate();
    const sealed = cipher.seal('insurer-1', secret);
    expect(sealed.includes(Buffer.from(secret))).toBe(false);
    expect(cipher.open('insurer-1', sealed)).toBe(secret);
  });

  it('refuses a ciphertext moved to another insurer, tampered with, or sealed under another key', () => {
    const sealed = cipher.seal('insurer-1', 'whsec_x');
    expect(() => cipher.open('insurer-2', sealed)).toThrow();
    const tampered = Buffer.from(sealed);
    tampered[tampered.length - 1] ^= 1;
    expect(() => cipher.open('insurer-1', tampered)).toThrow();
    expect(() => new WebhookSecretCipher('another-master-key-of-32-chars-or-more').open('insurer-1', sealed)).toThrow();
  });
});
