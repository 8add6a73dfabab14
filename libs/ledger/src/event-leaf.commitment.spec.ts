import { createHash } from 'node:crypto';
import { leafCommitment, leafHashOfEvent } from './event-leaf.commitment';
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
