import { Topics } from '@claimchain/wire';
import { buildEvent, parseEvent, SchemaViolationError } from './event-codec';

const verified = () =>
  buildEvent(Topics.TreatmentsVerified, {
    source: 'test',
    subject: '0190f0e0-0000-7000-8000-000000000001',
    tenantid: 'insurer-1',
    data: {
      claimId: '0190f0e0-0000-7000-8000-000000000001',
      confirmationId: '0190f0e0-0000-7000-8000-000000000002',
      providerId: 'clinic-1',
      items: [{ sequence: 1, system: 'http://x', code: '1', quantity: 1, performedAt: '2026-11-20' }],
      verifiedAt: '2026-11-20T10:00:00.000Z',
    },
  });

describe(buildEvent.name, () => {
  it('builds a CloudEvents 1.0 envelope with the catalog type and a UUIDv7 id', () => {
    const event = verified();
    expect(event).toMatchObject({
      specversion: '1.0',
      type: 'treatment.verified',
      datacontenttype: 'application/json',
      dataschema: expect.stringContaining('treatments.verified.v1'),
      tenantid: 'insurer-1',
    });
    expect(event.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    expect(event.correlationid).toBe(event.id);
  });

  it('refuses to build a claim event whose subject is not its data.claimId', () => {
    const claimId = '0190f0e0-0000-7000-8000-000000000001';
    expect(() =>
      buildEvent(Topics.ClaimsCancelled, {
        source: 'test',
        subject: '0190f0e0-0000-7000-8000-0000000000ff',
        data: { claimId, insurerId: 'insurer-1', reason: 'withdrawn', cancelledAt: '2026-11-20T10:00:00.000Z' },
      }),
    ).toThrow(/subject .* differs from \/data\/claimId/);
  });

  it('refuses to build an event whose data breaks its schema, naming the field', () => {
    expect(() =>
      buildEvent(Topics.PayoutsReleased, {
        source: 'test',
        subject: 's',
        data: { amount: 12.5 } as never,
      }),
    ).toThrow(/\/data\/amount/);
  });
});

describe(parseEvent.name, () => {
  it('round-trips a built event', () => {
    const event = verified();
    expect(parseEvent(Topics.TreatmentsVerified, Buffer.from(JSON.stringify(event)))).toEqual(event);
  });

  it.each([
    ['a null value', null],
    ['bytes that are not JSON', Buffer.from('{nope')],
    ['an envelope without specversion', Buffer.from(JSON.stringify({ ...verified(), specversion: undefined }))],
  ])('rejects %s as a schema violation', (_what, raw) => {
    expect(() => parseEvent(Topics.TreatmentsVerified, raw)).toThrow(SchemaViolationError);
  });

  it('rejects a ledger notice whose entry lacks its inclusion proof, naming the field (the consumer dead-letters it)', () => {
    const hash = Buffer.alloc(32, 1).toString('base64');
    const entry = {
      eventId: '0190f0e0-0000-7000-8000-000000000001',
      eventType: 'treatment.verified',
      eventSubject: '0190f0e0-0000-7000-8000-000000000002',
      leafIndex: 0,
      leafHash: hash,
      inclusionProof: [],
    };
    const anchored = buildEvent(Topics.LedgerAnchored, {
      source: 'test',
      subject: 's',
      data: { origin: 'o', treeSize: 1, rootHash: hash, checkpoint: 'note', part: 1, parts: 1, entries: [entry] },
    });
    const { inclusionProof: _proof, ...unproven } = entry;
    const raw = JSON.stringify({ ...anchored, data: { ...anchored.data, entries: [unproven] } });
    expect(() => parseEvent(Topics.LedgerAnchored, raw)).toThrow(/\/data\/entries\/0\/inclusionProof: Required/);
    expect(() =>
      parseEvent(
        Topics.LedgerAnchored,
        JSON.stringify({ ...anchored, data: { ...anchored.data, rootHash: undefined } }),
      ),
    ).toThrow(/\/data\/rootHash: Required/);
    expect(() =>
      parseEvent(Topics.LedgerAnchored, JSON.stringify({ ...anchored, data: { ...anchored.data, part: 2 } })),
    ).toThrow(/\/data\/part/);
    expect(() =>
      parseEvent(Topics.LedgerAnchored, JSON.stringify({ ...anchored, data: { ...anchored.data, entries: [] } })),
    ).toThrow(/\/data\/entries/);
  });

  it('rejects an event of another type arriving on the topic', () => {
    const event = verified();
    expect(() => parseEvent(Topics.TreatmentsRejected, JSON.stringify(event))).toThrow(/does not belong/);
  });
});

describe(`${parseEvent.name} and the subject rule`, () => {
  it('refuses, as a schema violation (dead-lettered), a claim event whose subject and data.claimId disagree', () => {
    const event = { ...verified(), subject: '0190f0e0-0000-7000-8000-0000000000ff' };
    expect(() => parseEvent(Topics.TreatmentsVerified, JSON.stringify(event))).toThrow(SchemaViolationError);
  });
});
