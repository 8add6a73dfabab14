import { createHash, createHmac } from 'node:crypto';
import { leafCommitment, leafHashOfEvent, leafSaltOf, parseLeafSalt } from './event-leaf.commitment';
import { hashLeaf } from './rfc9162.hasher';

const event = {
  id: '0190f1c2-7a4b-7cde-8f01-23456789abcd',
  type: 'claim.submitted.v1',
  subject: 'claim-42',
  time: '2025-01-02T03:04:05.678Z',
  source: 'claimchain/claim-intake',
  tenantid: 'acme-health',
  data: { patient: 'p-1', amount: { currency: 'EUR', value: '12.50' }, codes: ['A01', 'B02'] },
};

// Written out by hand from RFC 8785: keys sorted by UTF-16 code units, no whitespace.
const dataJcs = '{"amount":{"currency":"EUR","value":"12.50"},"codes":["A01","B02"],"patient":"p-1"}';
const datahash = createHash('sha256').update(dataJcs).digest('hex');

describe(leafCommitment.name, () => {
  it('is the JCS of the committed attributes and the hash of the JCS of data', () => {
    expect(leafCommitment(event).toString('utf8')).toBe(
      `{"datahash":"${datahash}","id":"${event.id}","source":"claimchain/claim-intake","subject":"claim-42",` +
        `"tenantid":"acme-health","time":"2025-01-02T03:04:05.678Z","type":"claim.submitted.v1"}`,
    );
  });

  it('omits tenantid when the event has none', () => {
    const { tenantid: _, ...untenanted } = event;
    expect(JSON.parse(leafCommitment(untenanted).toString('utf8'))).not.toHaveProperty('tenantid');
  });

  it('treats a null tenantid as absent', () => {
    const { tenantid: _, ...untenanted } = event;
    expect(leafCommitment({ ...event, tenantid: null })).toEqual(leafCommitment(untenanted));
  });

  it('does not depend on the key order of data', () => {
    const reordered = { codes: ['A01', 'B02'], patient: 'p-1', amount: { value: '12.50', currency: 'EUR' } };
    expect(leafCommitment({ ...event, data: reordered })).toEqual(leafCommitment(event));
  });

  it('changes when data changes', () => {
    const changed = { ...event.data, amount: { currency: 'EUR', value: '12.51' } };
    expect(leafCommitment({ ...event, data: changed })).not.toEqual(leafCommitment(event));
  });

  it('ignores envelope attributes outside the commitment', () => {
    const envelope = { ...event, specversion: '1.0', correlationid: 'c-1', datacontenttype: 'application/json' };
    expect(leafCommitment(envelope)).toEqual(leafCommitment(event));
  });

  it('rejects an event without data', () => {
    expect(() => leafCommitment({ ...event, data: undefined })).toThrow(
      expect.objectContaining({ code: 'LEDGER.EVENT_NOT_COMMITTABLE' }),
    );
  });

  it('rejects data JSON cannot represent', () => {
    expect(() => leafCommitment({ ...event, data: { amount: NaN } })).toThrow(
      expect.objectContaining({ code: 'LEDGER.EVENT_NOT_COMMITTABLE' }),
    );
  });
});

describe(leafHashOfEvent.name, () => {
  it('is the RFC 9162 leaf hash of the commitment', () => {
    expect(leafHashOfEvent(event)).toEqual(hashLeaf(leafCommitment(event)));
  });
});

describe('salted leaves (v2, ADR 16)', () => {
  const salt = Buffer.from('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', 'hex');
  const saltedHash = createHmac('sha256', salt).update(dataJcs).digest('hex');

  it('is the JCS of the committed attributes, v 2, and the HMAC of the JCS of data under the salt (vector)', () => {
    expect(leafCommitment(event, salt).toString('utf8')).toBe(
      `{"datahash":"${saltedHash}","id":"${event.id}","source":"claimchain/claim-intake","subject":"claim-42",` +
        `"tenantid":"acme-health","time":"2025-01-02T03:04:05.678Z","type":"claim.submitted.v1","v":2}`,
    );
    // Fixed vectors, for implementations in other languages.
    expect(saltedHash).toBe('6b58b8689b389a41ddda7b7b756fff8103bfdbfaf0eb208c24bb8bd87d6c8682');
    expect(leafSaltOf(Buffer.from('ledger-salt-key-for-test-vectors'), event.id).toString('hex')).toBe(
      '31452779d42449c81fdf1c0402b295305644d1c18ce7d03605890ca803d0291d',
    );
  });

  it('defeats the guessing attack: the right guess of the data without the salt does not give the datahash', () => {
    const cancellation = {
      ...event,
      type: 'claim.cancelled',
      data: { claimId: 'claim-42', insurerId: 'acme-health', reason: 'patient withdrew', cancelledAt: event.time },
    };
    const published = JSON.parse(leafCommitment(cancellation, salt).toString('utf8')) as { datahash: string };
    // The attacker knows everything but the reason, and tries reasons until the unsalted hash matches.
    const guesses = ['entered in error', 'duplicate', 'patient withdrew'].map((reason) =>
      createHash('sha256')
        .update(JSON.stringify({ ...cancellation.data, reason }, Object.keys(cancellation.data).sort()))
        .digest('hex'),
    );
    expect(guesses).not.toContain(published.datahash);
    // The unsalted leaf of the same event was guessable: the right guess matched.
    const unsalted = JSON.parse(leafCommitment(cancellation).toString('utf8')) as { datahash: string };
    expect(guesses).toContain(unsalted.datahash);
    // With the salt, the holder of the event recomputes the leaf exactly.
    expect(leafHashOfEvent(cancellation, salt)).toEqual(hashLeaf(leafCommitment(cancellation, salt)));
  });

  it('detects tampering with the data, and a wrong salt', () => {
    const changed = { ...event, data: { ...event.data, patient: 'p-2' } };
    expect(leafHashOfEvent(changed, salt)).not.toEqual(leafHashOfEvent(event, salt));
    const other = Buffer.alloc(32, 7);
    expect(leafHashOfEvent(event, other)).not.toEqual(leafHashOfEvent(event, salt));
  });

  it('keeps v1 leaves as they were: no salt, no version field', () => {
    expect(JSON.parse(leafCommitment(event).toString('utf8'))).not.toHaveProperty('v');
    expect(leafCommitment(event, null)).toEqual(leafCommitment(event));
  });

  it('derives one salt per event id, whatever its case, and a different one per id and key', () => {
    const key = Buffer.alloc(32, 1);
    expect(leafSaltOf(key, event.id.toUpperCase())).toEqual(leafSaltOf(key, event.id));
    expect(leafSaltOf(key, '0190f1c2-7a4b-7cde-8f01-23456789abce')).not.toEqual(leafSaltOf(key, event.id));
    expect(leafSaltOf(Buffer.alloc(32, 2), event.id)).not.toEqual(leafSaltOf(key, event.id));
  });

  it('refuses a salt of the wrong size or spelling', () => {
    expect(() => leafCommitment(event, Buffer.alloc(16))).toThrow(
      expect.objectContaining({ code: 'LEDGER.EVENT_NOT_COMMITTABLE' }),
    );
    expect(() => parseLeafSalt('AB'.repeat(32))).toThrow(
      expect.objectContaining({ code: 'LEDGER.EVENT_NOT_COMMITTABLE' }),
    );
    expect(parseLeafSalt(undefined)).toBeNull();
    expect(parseLeafSalt(salt.toString('hex'))).toEqual(salt);
  });
});
