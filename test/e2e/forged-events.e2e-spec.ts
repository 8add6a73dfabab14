import { Client } from 'pg';
import { Kafka } from 'kafkajs';
import { v4 as uuidv4, v7 as uuidv7 } from 'uuid';
import { loadServiceConfig, ServiceName } from '@claimchain/config';
import { CloudEvent, dlqTopicOf, TopicName, Topics } from '@claimchain/wire';
import { generateNoteKey, parseSignerKey } from '@claimchain/ledger';
import { buildEvent, createKafka, EventSigner, KafkaEventTransport } from '@claimchain/messaging';
import { claimSubmittedDraft, DeadLetter, dlqReader, testEventSigner, waitFor } from '@claimchain/testing';
import { fhirClaim, fhirClaimTreatments, newKey, RunningSystem, startSystem } from './system';

/**
 * Issue 14.1 on the real broker (ADR 18): whoever can write to Kafka produces a claims.submitted.v1 and a
 * treatments.verified.v1 for a new claim id, straight to the topics with kafkajs. Unsigned, signed with a key nobody
 * configured, signed by a service that does not own the topic, or altered after its owner signed it: the ledger and
 * payout each dead-letter every one at once (reason `signature`), nothing is recorded on the ledger and nothing is
 * paid; a claim that went through the services is still paid.
 */
describe('forged events', () => {
  let system: RunningSystem;
  let kafka: Kafka;
  let dlq: { messages: DeadLetter[]; stop(): Promise<void> };

  beforeAll(async () => {
    system = await startSystem();
    kafka = createKafka('e2e-forger', process.env.KAFKA_BROKERS!.split(','));
    dlq = await dlqReader(kafka, [dlqTopicOf(Topics.ClaimsSubmitted), dlqTopicOf(Topics.TreatmentsVerified)]);
  }, 120_000);

  afterAll(async () => {
    await dlq?.stop();
    await system?.stop();
  });

  const stranger = new EventSigner(parseSignerKey(generateNoteKey('claim-intake').signerKey));
  const strangerTv = new EventSigner(parseSignerKey(generateNoteKey('treatment-verification').signerKey));

  /** A claim and its verification for a new id, as claim-intake and treatment-verification would produce them. */
  function forgedPair(claimId: string): { claim: CloudEvent; verified: CloudEvent } {
    const claim = buildEvent(
      Topics.ClaimsSubmitted,
      claimSubmittedDraft(claimId, {
        insurerId: 'insurer-e2e',
        providerId: 'clinic-e2e',
        source: 'claimchain/claim-intake',
      }),
    );
    const verified = buildEvent(Topics.TreatmentsVerified, {
      source: 'claimchain/treatment-verification',
      subject: claimId,
      tenantid: 'insurer-e2e',
      data: {
        claimId,
        confirmationId: uuidv4(),
        providerId: 'clinic-e2e',
        items: (
          claim.data as { items: { sequence: number; system: string; code: string; servicedDate: string }[] }
        ).items.map((i) => ({
          sequence: i.sequence,
          system: i.system,
          code: i.code,
          quantity: 1,
          performedAt: i.servicedDate,
        })),
        verifiedAt: new Date().toISOString(),
      },
    });
    return { claim, verified };
  }

  /** The four ways to forge, each on a claim id of its own. */
  const forgeries: [string, (topic: TopicName, event: CloudEvent) => CloudEvent][] = [
    ['unsigned', (_topic, event) => event],
    [
      'signed with a key nobody configured (named after the owner)',
      (topic, event) => (topic === Topics.ClaimsSubmitted ? stranger : strangerTv).sign(event),
    ],
    [
      'signed by a service that does not own the topic (payout’s real key)',
      (_topic, event) => testEventSigner('payout').sign(event),
    ],
    [
      'altered after its owner signed it',
      (topic, event) => {
        const signed = testEventSigner(
          topic === Topics.ClaimsSubmitted ? 'claim-intake' : 'treatment-verification',
        ).sign(event);
        return { ...signed, tenantid: 'insurer-forger' };
      },
    ],
  ];

  async function query<T>(service: ServiceName, sql: string, params: unknown[]): Promise<T[]> {
    const client = new Client({ connectionString: loadServiceConfig(service).databaseUrl });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  }

  it('dead-letters every forged claim and verification in the ledger and in payout, records none and pays none; a real claim is paid', async () => {
    const claimIds = forgeries.map(() => uuidv7());
    const producer = kafka.producer();
    await producer.connect();
    const sent: CloudEvent[] = [];
    for (const [i, [, forge]] of forgeries.entries()) {
      const { claim, verified } = forgedPair(claimIds[i]);
      const messages = [
        { topic: Topics.ClaimsSubmitted, event: forge(Topics.ClaimsSubmitted, claim) },
        { topic: Topics.TreatmentsVerified, event: forge(Topics.TreatmentsVerified, verified) },
      ];
      for (const { topic, event } of messages) {
        await producer.send({ topic, messages: [{ key: claimIds[i], value: JSON.stringify(event) }] });
        sent.push(event);
      }
    }
    await producer.disconnect();

    // A claim through the services, submitted after the forgeries: signed by its owners, anchored, paid.
    const insurer = await system.as('insurer', 'insurer-e2e');
    const provider = await system.as('provider', 'clinic-e2e');
    const submitted = await fetch(system.url('claim-intake', '/v1/claims'), {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', ...insurer, ...newKey() },
      body: JSON.stringify(fhirClaim(`p-${uuidv4()}`)),
    });
    expect(submitted.status).toBe(202);
    const { id } = (await submitted.json()) as { id: string };
    const confirmed = await fetch(system.url('treatment-verification', '/v1/confirmations'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...provider, ...newKey() },
      body: JSON.stringify({ claimId: id, performed: fhirClaimTreatments() }),
    });
    expect([201, 202]).toContain(confirmed.status);

    // Each forged message dead-lettered by the ledger's consumer group and by payout's, as not authentic.
    const groupOf = (service: ServiceName) => system.app(service).get(KafkaEventTransport).groupId;
    const refusedBy = (service: ServiceName) => {
      const group = groupOf(service);
      const mine = dlq.messages.filter(
        (m) => claimIds.includes(m.key ?? '') && m.headers['x-dlq-consumer-group'] === group,
      );
      return mine.length >= sent.length ? mine : undefined;
    };
    for (const service of ['ledger-anchoring', 'payout'] as const) {
      const letters = await waitFor(`${service} to dead-letter the ${sent.length} forged events`, () =>
        refusedBy(service),
      );
      expect({ service, reasons: [...new Set(letters.map((l) => l.headers['x-dlq-reason']))] }).toEqual({
        service,
        reasons: ['signature'],
      });
      expect(new Set(letters.map((l) => l.headers['x-dlq-original-topic']))).toEqual(
        new Set([Topics.ClaimsSubmitted, Topics.TreatmentsVerified]),
      );
    }

    const paid = await waitFor(
      'the real claim to be paid',
      async () => {
        const body = (await (
          await fetch(system.url('claim-intake', `/v1/claims/${id}`), { headers: insurer })
        ).json()) as {
          status: string;
        };
        return body.status === 'paid' ? body : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect(paid.status).toBe('paid');

    // Nothing forged is on the ledger; payout holds no claim, decision or payout for the forged ids.
    const eventIds = sent.map((e) => e.id);
    const leaves = await query<{ n: number }>(
      'ledger-anchoring',
      `SELECT count(*)::int AS n FROM ledger_leaves WHERE event_id = ANY($1::uuid[])`,
      [eventIds],
    );
    expect(leaves[0].n).toBe(0);
    const held = await query<{ claims: number; payouts: number; decisions: number }>(
      'payout',
      `SELECT (SELECT count(*)::int FROM claims WHERE claim_id = ANY($1::uuid[])) AS claims,
              (SELECT count(*)::int FROM payouts WHERE claim_id = ANY($1::uuid[])) AS payouts,
              (SELECT count(*)::int FROM adjudications WHERE claim_id = ANY($1::uuid[])) AS decisions`,
      [claimIds],
    );
    expect(held[0]).toEqual({ claims: 0, payouts: 0, decisions: 0 });
  });
});
