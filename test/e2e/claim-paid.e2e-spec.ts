import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DataSource } from 'typeorm';
import { v4 as uuidv4 } from 'uuid';
import { loadServiceConfig, ServiceName, SERVICE_NAMES } from '@claimchain/config';
import { CloudEvent, Topics } from '@claimchain/contracts';
import {
  generateNoteKey,
  leafHashOfEvent,
  openNote,
  parseCheckpoint,
  parseVerifierKey,
  verifyInclusion,
} from '@claimchain/ledger';
import { buildEvent, createKafka, startHybridApp } from '@claimchain/messaging';
import { waitFor } from '@claimchain/testing';
import { ClaimIntakeModule } from '../../apps/claim-intake/src/app.module';
import { TreatmentVerificationModule } from '../../apps/treatment-verification/src/app.module';
import { LedgerAnchoringModule } from '../../apps/ledger-anchoring/src/app.module';
import { PayoutModule } from '../../apps/payout/src/app.module';

const MODULES = {
  'claim-intake': ClaimIntakeModule,
  'treatment-verification': TreatmentVerificationModule,
  'ledger-anchoring': LedgerAnchoringModule,
  payout: PayoutModule,
} as const;

const CPT = 'http://www.ama-assn.org/go/cpt';

/** The FHIR R4 Claim an insurer's system would send: one office visit and one lab test. */
function fhirClaim(patient: string) {
  return {
    resourceType: 'Claim',
    status: 'active',
    type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/claim-type', code: 'professional' }] },
    use: 'claim',
    patient: { reference: `Patient/${patient}` },
    created: '2026-11-20',
    insurer: { reference: 'Organization/insurer-e2e' },
    provider: { reference: 'Organization/clinic-e2e' },
    priority: { coding: [{ code: 'normal' }] },
    insurance: [{ sequence: 1, focal: true, coverage: { reference: 'Coverage/policy-e2e' } }],
    item: [
      {
        sequence: 1,
        productOrService: { coding: [{ system: CPT, code: '99213' }] },
        servicedDate: '2026-11-20',
        quantity: { value: 1 },
        unitPrice: { value: 120.0, currency: 'EUR' },
        net: { value: 120.0, currency: 'EUR' },
      },
      {
        sequence: 2,
        productOrService: { coding: [{ system: CPT, code: '85025' }] },
        servicedDate: '2026-11-20',
        quantity: { value: 2 },
        unitPrice: { value: 15.25, currency: 'EUR' },
        net: { value: 30.5, currency: 'EUR' },
      },
    ],
    total: { value: 150.5, currency: 'EUR' },
  };
}

interface TimelineEntry {
  eventId: string;
  type: string;
  event: CloudEvent | null;
  ledger: { index: number; leafHash: string; treeSize: number } | null;
}

describe('one claim, end to end, on the real broker', () => {
  const apps = new Map<ServiceName, NestFastifyApplication>();
  const bases = new Map<ServiceName, string>();
  const url = (service: ServiceName, path: string) => `${bases.get(service)}${path}`;

  beforeAll(async () => {
    const keyDir = mkdtempSync(join(tmpdir(), 'claimchain-e2e-'));
    const origin = 'claimchain.e2e/ledger';
    writeFileSync(join(keyDir, 'signing.key'), generateNoteKey(origin).signerKey, { mode: 0o600 });
    const env = {
      ...process.env,
      PORT: '0',
      KAFKA_GROUP_PREFIX: `e2e-${uuidv4()}`,
      LEDGER_ORIGIN: origin,
      LEDGER_SIGNING_KEY_FILE: join(keyDir, 'signing.key'),
      LEDGER_CHECKPOINT_INTERVAL_MS: '100',
      LOG_LEVEL: 'warn',
    };
    for (const service of SERVICE_NAMES) {
      const config = loadServiceConfig(service, env);
      const app = await startHybridApp(MODULES[service].forRoot(config), config);
      apps.set(service, app);
      bases.set(service, await app.getUrl());
    }
    for (const service of SERVICE_NAMES) {
      await waitFor(`${service} to be ready`, async () => (await fetch(url(service, '/health/ready'))).ok, {
        timeoutMs: 60_000,
      });
    }
  }, 120_000);

  async function submit(claim: object): Promise<{ id: string }> {
    const res = await fetch(url('claim-intake', '/v1/claims'), {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify(claim),
    });
    expect(res.status).toBe(202);
    return (await res.json()) as { id: string };
  }

  async function confirm(claimId: string, performed: object[]): Promise<{ status: number; location: string }> {
    const res = await fetch(url('treatment-verification', '/v1/confirmations'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ claimId, performed }),
    });
    return { status: res.status, location: res.headers.get('location') ?? '' };
  }

  afterAll(async () => {
    for (const app of [...apps.values()].reverse()) await app.close();
  });

  it('pays a verified claim exactly once, with a ledger receipt that verifies against the signed checkpoint', async () => {
    const submitted = await fetch(url('claim-intake', '/v1/claims'), {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify(fhirClaim(`p-${uuidv4()}`)),
    });
    const accepted = (await submitted.json()) as { id: string; status: string };
    expect({ code: submitted.status, body: accepted }).toEqual({
      code: 202,
      body: { id: expect.any(String), status: 'submitted' },
    });
    const { id } = accepted;

    // The provider confirms at once: before the claim reaches treatment-verification it is accepted as pending.
    const confirmed = await confirm(id, [
      { system: CPT, code: '99213', quantity: 1, performedAt: '2026-11-20' },
      { system: CPT, code: '85025', quantity: 2, performedAt: '2026-11-20' },
    ]);
    expect([201, 202]).toContain(confirmed.status);

    const claim = await waitFor(
      'the claim to be paid and its payout anchored',
      async () => {
        const body = (await (await fetch(url('claim-intake', `/v1/claims/${id}`))).json()) as {
          status: string;
          paid: string | null;
          timeline: TimelineEntry[];
        };
        const payout = body.timeline.find((e) => e.type === 'payout.released');
        return body.status === 'paid' && payout?.ledger && payout.event ? body : undefined;
      },
      { timeoutMs: 60_000 },
    );
    // Demo contract: 20% coinsurance on both lines → 96.00 + 24.40.
    expect(claim.paid).toBe('120.40');
    expect(claim.timeline.map((e) => e.type)).toEqual(
      expect.arrayContaining(['claim.submitted', 'treatment.verified', 'claim.adjudicated', 'payout.released']),
    );

    const payout = claim.timeline.find((e) => e.type === 'payout.released')!;
    // The ledger leaf commits to exactly this payout event.
    expect(leafHashOfEvent(payout.event!).toString('base64')).toBe(payout.ledger!.leafHash);

    // Check the signed checkpoint with the published key, then the inclusion proof against its root.
    const vkey = (await (await fetch(url('ledger-anchoring', '/v1/ledger/public-key'))).text()).trim();
    const note = await (await fetch(url('ledger-anchoring', '/v1/ledger/checkpoint'))).text();
    const checkpoint = parseCheckpoint(openNote(note, [parseVerifierKey(vkey)]).text);
    expect(checkpoint.size).toBeGreaterThan(payout.ledger!.index);
    const proofRes = await fetch(
      url('ledger-anchoring', `/v1/ledger/proofs/inclusion?index=${payout.ledger!.index}&treeSize=${checkpoint.size}`),
    );
    expect(proofRes.status).toBe(200);
    const proof = (await proofRes.json()) as { leafHash: string; hashes: string[] };
    expect(proof.leafHash).toBe(payout.ledger!.leafHash);
    expect(() =>
      verifyInclusion(
        Buffer.from(proof.leafHash, 'base64'),
        payout.ledger!.index,
        checkpoint.size,
        proof.hashes.map((h) => Buffer.from(h, 'base64')),
        checkpoint.root,
      ),
    ).not.toThrow();

    const confirmation = (await (await fetch(url('treatment-verification', confirmed.location))).json()) as {
      outcome: string;
    };
    expect(confirmation.outcome).toBe('verified');

    // Exactly one payout row for the claim in payout's own database.
    const payoutDb = apps.get('payout')!.get(DataSource);
    const [{ n }] = await payoutDb.query(`SELECT count(*)::int AS n FROM payouts WHERE claim_id = $1`, [id]);
    expect(n).toBe(1);
  }, 120_000);

  it('rejects a confirmation that does not match the claim, and pays nothing', async () => {
    const { id } = await submit(fhirClaim(`p-${uuidv4()}`));
    const confirmed = await confirm(id, [{ system: CPT, code: '99213', quantity: 1, performedAt: '2026-11-19' }]);
    expect([201, 202]).toContain(confirmed.status);
    const claim = await waitFor('the claim to be rejected', async () => {
      const body = (await (await fetch(url('claim-intake', `/v1/claims/${id}`))).json()) as { status: string };
      return body.status === 'rejected' ? body : undefined;
    });
    expect(claim).toMatchObject({ status: 'rejected' });
    const confirmation = (await (await fetch(url('treatment-verification', confirmed.location))).json()) as {
      outcome: string;
      reasons: { sequence: number; code: string }[];
    };
    expect(confirmation.outcome).toBe('rejected');
    expect(confirmation.reasons).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ sequence: 1, code: 'DATE_MISMATCH' }),
        expect.objectContaining({ sequence: 2, code: 'NOT_PERFORMED' }),
      ]),
    );
    const second = await confirm(id, [{ system: CPT, code: '99213', quantity: 1, performedAt: '2026-11-20' }]);
    expect(second.status).toBe(409);
  });

  it('keeps a confirmation that arrives before its claim pending, and decides it when the claim arrives', async () => {
    const claimId = uuidv4();
    const early = await confirm(claimId, [{ system: CPT, code: '99213', quantity: 1, performedAt: '2026-11-20' }]);
    expect(early.status).toBe(202);
    const pending = (await (await fetch(url('treatment-verification', early.location))).json()) as { outcome: string };
    expect(pending.outcome).toBe('pending');

    // The claim event arrives late (published here straight to the topic, as claim-intake's relay would).
    const kafka = createKafka('e2e-late-claim', process.env.KAFKA_BROKERS!.split(','));
    const producer = kafka.producer();
    await producer.connect();
    const event = buildEvent(Topics.ClaimsSubmitted, {
      source: 'claimchain/claim-intake',
      subject: claimId,
      tenantid: 'insurer-e2e',
      data: {
        claimId,
        insurerId: 'insurer-e2e',
        providerId: 'clinic-e2e',
        patientPseudonym: 'b'.repeat(64),
        coverage: 'policy-e2e',
        currency: 'EUR',
        total: '120.00',
        items: [
          {
            sequence: 1,
            system: CPT,
            code: '99213',
            servicedDate: '2026-11-20',
            quantity: 1,
            unitPrice: '120.00',
            net: '120.00',
          },
        ],
        submittedAt: new Date().toISOString(),
      },
    });
    await producer.send({ topic: Topics.ClaimsSubmitted, messages: [{ key: claimId, value: JSON.stringify(event) }] });
    await producer.disconnect();

    const decided = await waitFor('the pending confirmation to be decided', async () => {
      const body = (await (await fetch(url('treatment-verification', early.location))).json()) as { outcome: string };
      return body.outcome !== 'pending' ? body : undefined;
    });
    expect(decided.outcome).toBe('verified');
  });

  it('answers an invalid claim with problem+json naming each offending field', async () => {
    const bad = fhirClaim('p-1') as Record<string, unknown>;
    delete bad.patient;
    (bad.item as { quantity: unknown }[])[0].quantity = { value: -1 };
    const res = await fetch(url('claim-intake', '/v1/claims'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(bad),
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await res.json()) as { errors: { pointer: string }[] };
    expect(problem.errors.map((e) => e.pointer)).toEqual(
      expect.arrayContaining(['/patient', '/item/0/quantity/value']),
    );
  });
});
