import { DataSource } from 'typeorm';
import { v4 as uuidv4 } from 'uuid';
import { AnchoredEntry, CloudEvent, Topics } from '@claimchain/wire';
import { EventContext } from '@claimchain/messaging';
import { migratedDataSource, testEventSigner } from '@claimchain/testing';
import { dataSourceOptions } from '../../persistence/data-source.options';
import { ClaimsRepository } from '../claims.repository';
import { ClaimStatusConsumer } from './claim-status.consumer';
import { anchoredNotices } from '../../../../ledger-anchoring/src/log/checkpoint/checkpoint.service';

/**
 * claim-intake's receipts from the ledger's one notice per checkpoint (ADR 23), on the real Postgres: the entries of
 * the claims it knows are kept, each with the checkpoint; one entry the database refuses for good costs only that
 * entry, never the notice (and so the other claims' receipts); a redelivery changes nothing.
 */
describe(`${ClaimStatusConsumer.name} on a ledger.anchored.v2 notice`, () => {
  let ds: DataSource;
  let claims: ClaimsRepository;
  let consumer: ClaimStatusConsumer;
  const hash = (i: number) => Buffer.alloc(32, i).toString('base64');

  beforeAll(async () => {
    ds = await migratedDataSource(
      `${process.env.DATABASE_PREFIX ?? 'claimchain_test'}_claim_anchors`,
      dataSourceOptions(''),
    );
    claims = new ClaimsRepository(ds, testEventSigner('claim-intake'));
    consumer = new ClaimStatusConsumer(claims);
  });

  afterAll(async () => {
    await ds?.destroy();
  });

  async function claim(): Promise<string> {
    const id = uuidv4();
    await ds.transaction((em) =>
      claims.insertMany(em, [
        {
          id,
          insurerId: 'insurer-anchors',
          providerId: 'clinic-anchors',
          patientPseudonym: id,
          coverage: 'cov',
          currency: 'EUR',
          total: '10.00',
          submission: '{}',
          submissionSalt: '00'.repeat(16),
          lines: [],
          submittedAt: new Date(),
        },
      ]),
    );
    return id;
  }

  const entry = (claimId: string, leafIndex: number): AnchoredEntry => ({
    eventId: uuidv4(),
    eventType: 'treatment.verified',
    eventSubject: claimId,
    leafIndex,
    leafHash: hash(leafIndex % 256),
    inclusionProof: [hash(1), hash(2)],
    dataSalt: 'cd'.repeat(32),
  });

  function notice(entries: AnchoredEntry[]): CloudEvent {
    const [{ event }] = anchoredNotices(
      { origin: 'claimchain.int/intake', treeSize: 100, rootHash: hash(3), checkpoint: 'the signed note' },
      entries,
    );
    return event;
  }

  const track = (events: CloudEvent[]) =>
    ds.transaction((em) =>
      consumer.track(events, new EventContext([em, { topic: Topics.LedgerAnchored, partition: 0, offset: '0' }])),
    );

  const receipts = async (claimIds: string[]) =>
    ds.query(
      `SELECT claim_id::text, type, ledger_index::text, tree_size::text, checkpoint, data_salt FROM claim_events
        WHERE claim_id = ANY($1) ORDER BY ledger_index`,
      [claimIds],
    );

  it("keeps each known claim's anchor with its checkpoint, and ignores entries of claims it does not know", async () => {
    const [a, b] = [await claim(), await claim()];
    await track([notice([entry(a, 7), entry(uuidv4(), 8), entry(b, 9), entry('contract-x', 10)])]);
    expect(await receipts([a, b])).toEqual([
      expect.objectContaining({ claim_id: a, ledger_index: '7', tree_size: '100', checkpoint: 'the signed note' }),
      expect.objectContaining({ claim_id: b, ledger_index: '9', tree_size: '100', data_salt: 'cd'.repeat(32) }),
    ]);
  });

  it("leaves out only an entry the database refuses for good, keeping the other claims' anchors", async () => {
    const [a, b, c] = [await claim(), await claim(), await claim()];
    // A leaf index beyond bigint passes the schema (an integer) but not Postgres (22003): one entry's poison.
    const n = notice([entry(a, 11), entry(b, 1e20), entry(c, 12)]);
    await track([n]);
    expect((await receipts([a, b, c])).map((r: { claim_id: string }) => r.claim_id)).toEqual([a, c]);
    // A redelivery (the inbox would skip it; even applied again) adds and changes nothing.
    await track([n]);
    expect((await receipts([a, b, c])).map((r: { ledger_index: string }) => r.ledger_index)).toEqual(['11', '12']);
  });
});
