import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DataSource } from 'typeorm';
import { v4 as uuidv4 } from 'uuid';
import { loadServiceConfig, ServiceName, SERVICE_NAMES } from '@claimchain/config';
import { CloudEvent } from '@claimchain/contracts';
import {
  generateNoteKey,
  leafHashOfEvent,
  openNote,
  parseCheckpoint,
  parseVerifierKey,
  verifyInclusion,
} from '@claimchain/ledger';
import { startHybridApp } from '@claimchain/messaging';
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

    // The provider confirms once treatment-verification has received the claim.
    const confirmation = await waitFor('the provider confirmation to be accepted', async () => {
      const res = await fetch(url('treatment-verification', '/v1/confirmations'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          claimId: id,
          performed: [
            { system: CPT, code: '99213', quantity: 1, performedAt: '2026-11-20' },
            { system: CPT, code: '85025', quantity: 2, performedAt: '2026-11-20' },
          ],
        }),
      });
      return res.status === 201 ? ((await res.json()) as { outcome: string }) : undefined;
    });
    expect(confirmation.outcome).toBe('verified');

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

    // Exactly one payout row for the claim in payout's own database.
    const payoutDb = apps.get('payout')!.get(DataSource);
    const [{ n }] = await payoutDb.query(`SELECT count(*)::int AS n FROM payouts WHERE claim_id = $1`, [id]);
    expect(n).toBe(1);
  }, 120_000);

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
