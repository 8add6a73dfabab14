import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { v4 as uuidv4 } from 'uuid';
import { CloudEvent, Topics } from '@claimchain/wire';
import {
  leafHashOfEvent,
  openNote,
  parseCheckpoint,
  parseVerifierKey,
  verifyConsistency,
  verifyInclusion,
} from '@claimchain/ledger';
import { buildEvent, createKafka } from '@claimchain/messaging';
import { claimSubmittedDraft, fhirR4SchemaErrors, ownerSigned, waitFor } from '@claimchain/testing';
import { runCli } from '../../tools/verifier/src/verifier.cli';
import { CPT, fhirClaim, fhirClaimTreatments, newKey, RunningSystem, startSystem } from './system';

interface TimelineEntry {
  eventId: string;
  type: string;
  event: CloudEvent | null;
  ledger: { index: number; leafHash: string; treeSize: number } | null;
}

describe('one claim, end to end, on the real broker', () => {
  let system: RunningSystem;
  let insurer: { authorization: string };
  let provider: { authorization: string };
  const url: RunningSystem['url'] = (service, path) => system.url(service, path);
  const asInsurer = () => insurer;
  const asProvider = () => provider;

  beforeAll(async () => {
    system = await startSystem();
    insurer = await system.as('insurer', 'insurer-e2e');
    provider = await system.as('provider', 'clinic-e2e');
  }, 120_000);

  async function submit(claim: object): Promise<{ id: string }> {
    const res = await fetch(url('claim-intake', '/v1/claims'), {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', ...asInsurer(), ...newKey() },
      body: JSON.stringify(claim),
    });
    expect(res.status).toBe(202);
    return (await res.json()) as { id: string };
  }

  async function confirm(claimId: string, performed: object[]): Promise<{ status: number; location: string }> {
    const res = await fetch(url('treatment-verification', '/v1/confirmations'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...asProvider(), ...newKey() },
      body: JSON.stringify({ claimId, performed }),
    });
    return { status: res.status, location: res.headers.get('location') ?? '' };
  }

  afterAll(async () => {
    await system?.stop();
  });

  it('pays a verified claim exactly once, with a ledger receipt that verifies against the signed checkpoint', async () => {
    const submitted = await fetch(url('claim-intake', '/v1/claims'), {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', ...asInsurer(), ...newKey() },
      body: JSON.stringify(fhirClaim(`p-${uuidv4()}`)),
    });
    const accepted = (await submitted.json()) as { id: string; status: string };
    expect({ code: submitted.status, body: accepted }).toEqual({
      code: 202,
      body: { id: expect.any(String), status: 'submitted' },
    });
    const { id } = accepted;

    // The provider confirms at once: before the claim reaches treatment-verification it is accepted as pending.
    const confirmed = await confirm(id, fhirClaimTreatments());
    expect([201, 202]).toContain(confirmed.status);

    const claim = await waitFor(
      'the claim to be paid and its payout anchored',
      async () => {
        const body = (await (
          await fetch(url('claim-intake', `/v1/claims/${id}`), { headers: asInsurer() })
        ).json()) as {
          status: string;
          decision: string | null;
          paid: string | null;
          timeline: TimelineEntry[];
        };
        const payout = body.timeline.find((e) => e.type === 'payout.released');
        return body.status === 'paid' && payout?.ledger && payout.event ? body : undefined;
      },
      { timeoutMs: 60_000 },
    );
    // Demo contract: 20% coinsurance on both lines → 96.00 + 24.40, every line paid: approved.
    expect(claim.paid).toBe('120.40');
    expect(claim.decision).toBe('approved');
    expect(claim.timeline.map((e) => e.type)).toEqual(
      expect.arrayContaining(['claim.submitted', 'treatment.verified', 'claim.adjudicated', 'payout.released']),
    );

    const payout = claim.timeline.find((e) => e.type === 'payout.released')!;
    // The public leaf is salted (ADR 16): whoever holds the event's data but not its salt cannot confirm it.
    expect(leafHashOfEvent(payout.event!).toString('base64')).not.toBe(payout.ledger!.leafHash);

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

    const confirmation = (await (
      await fetch(url('treatment-verification', confirmed.location), { headers: asProvider() })
    ).json()) as {
      outcome: string;
    };
    expect(confirmation.outcome).toBe('verified');

    // The claim's receipt verifies offline with the verifier CLI, given only the ledger's published key; a tampered
    // copy does not.
    const receipt = await waitFor('a receipt covering all four events', async () => {
      const res = await fetch(url('claim-intake', `/v1/claims/${id}/receipt`), { headers: asInsurer() });
      if (res.status !== 200) return undefined;
      const body = (await res.json()) as { entries: { event: { type: string } }[] };
      return body.entries.length >= 4 ? body : undefined;
    });
    // The receipt hands the insurer each leaf's salt: with it, the leaf commits to exactly this payout event.
    const payoutEntry0 = (
      receipt as unknown as { entries: { event: { id: string }; dataSalt?: string }[] }
    ).entries.find((e) => e.event.id === payout.event!.id)!;
    expect(payoutEntry0.dataSalt).toMatch(/^[0-9a-f]{64}$/);
    expect(leafHashOfEvent(payout.event!, Buffer.from(payoutEntry0.dataSalt!, 'hex')).toString('base64')).toBe(
      payout.ledger!.leafHash,
    );
    // The public ledger never serves the salt: not with the entries, nor with the event's own public receipt.
    const publicAnswers = await Promise.all(
      [
        `/v1/ledger/entries?start=${payout.ledger!.index}&end=${payout.ledger!.index + 1}`,
        `/v1/ledger/events/${payout.event!.id}/receipt`,
        `/v1/ledger/proofs/inclusion?index=${payout.ledger!.index}&treeSize=${checkpoint.size}`,
      ].map(async (path) => (await fetch(url('ledger-anchoring', path))).text()),
    );
    const saltB64 = Buffer.from(payoutEntry0.dataSalt!, 'hex').toString('base64');
    for (const body of publicAnswers) {
      expect(body).not.toContain(payoutEntry0.dataSalt);
      expect(body).not.toContain(saltB64);
    }
    const dir = mkdtempSync(join(tmpdir(), 'receipt-'));
    writeFileSync(join(dir, 'receipt.json'), JSON.stringify(receipt));
    const out: string[] = [];
    const io = { stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => out.push(t) } };
    expect(await runCli(['receipt', join(dir, 'receipt.json'), '--key', vkey], io)).toBe(0);
    const tampered = JSON.parse(JSON.stringify(receipt)) as { entries: { event: { data: { amount?: string } } }[] };
    const payoutEntry = tampered.entries.find((e) => e.event.data.amount !== undefined)!;
    payoutEntry.event.data.amount = '9999.00';
    writeFileSync(join(dir, 'tampered.json'), JSON.stringify(tampered));
    expect(await runCli(['receipt', join(dir, 'tampered.json'), '--key', vkey], io)).toBe(1);

    // Exactly one payout row for the claim in payout's own database.
    const payoutDb = system.app('payout').get(DataSource);
    const [{ n }] = await payoutDb.query(`SELECT count(*)::int AS n FROM payouts WHERE claim_id = $1`, [id]);
    expect(n).toBe(1);

    // The remittance, as served: a ClaimResponse for the insurer and an ExplanationOfBenefit for the member, both
    // valid against HL7's FHIR R4 JSON schema, and nobody else's to read.
    const fhir = async (path: string, as = asInsurer()) => {
      const res = await fetch(url('payout', path), { headers: as });
      return { status: res.status, type: res.headers.get('content-type') ?? '', body: (await res.json()) as object };
    };
    const claimResponse = await fhir(`/v1/remittances/${id}`);
    const eob = await fhir(`/v1/remittances/${id}/explanation-of-benefit`);
    for (const served of [claimResponse, eob]) {
      expect(served).toMatchObject({ status: 200, type: expect.stringContaining('application/fhir+json') });
      expect(fhirR4SchemaErrors(served.body)).toEqual([]);
    }
    expect(claimResponse.body).toMatchObject({
      resourceType: 'ClaimResponse',
      outcome: 'complete',
      payment: { amount: { value: 120.4, currency: 'EUR' } },
    });
    expect(eob.body).toMatchObject({
      resourceType: 'ExplanationOfBenefit',
      outcome: 'complete',
      claimResponse: { reference: `ClaimResponse/${id}` },
      insurance: [{ focal: true, coverage: { reference: 'Coverage/policy-e2e' } }],
      item: [
        { sequence: 1, servicedDate: '2026-11-20' },
        { sequence: 2, servicedDate: '2026-11-20' },
      ],
      payment: { amount: { value: 120.4, currency: 'EUR' } },
    });
    const otherInsurer = await system.as('insurer', 'insurer-other');
    for (const unseen of [
      await fhir(`/v1/remittances/${id}/explanation-of-benefit`, otherInsurer),
      await fhir(`/v1/remittances/${uuidv4()}/explanation-of-benefit`),
    ]) {
      expect(unseen).toMatchObject({
        status: 404,
        type: expect.stringContaining('application/problem+json'),
        body: { code: 'REMITTANCE.NOT_FOUND' },
      });
    }
  }, 120_000);

  it('pays claims anchored by successive checkpoints only after proving each extends the history payout saw', async () => {
    const ops = await system.as('ops', 'ops-e2e');
    const circuit = async () =>
      (await (await fetch(url('payout', '/v1/ops/ledger-circuit'), { headers: ops })).json()) as {
        state: string;
        latestCheckpoint: { treeSize: number; rootHash: string } | null;
      };
    for (let i = 0; i < 2; i++) {
      const { id } = await submit(fhirClaim(`p-${uuidv4()}`));
      await confirm(id, fhirClaimTreatments());
      await waitFor(`claim ${i + 1} to be paid`, async () => {
        const res = await fetch(url('claim-intake', `/v1/claims/${id}`), { headers: asInsurer() });
        return ((await res.json()) as { status: string }).status === 'paid' || undefined;
      });
    }
    // Payout recorded each anchor's checkpoint, the later ones only once the ledger's consistency proof held.
    const payoutDb = system.app('payout').get(DataSource);
    const seen: { size: string; root: string }[] = await payoutDb.query(
      `SELECT tree_size::text AS size, root_hash AS root FROM ledger_checkpoints_seen ORDER BY tree_size`,
    );
    expect(seen.length).toBeGreaterThanOrEqual(2);
    const shown = await circuit();
    expect(shown).toMatchObject({
      state: 'closed',
      latestCheckpoint: { treeSize: Number(seen.at(-1)!.size), rootHash: seen.at(-1)!.root },
    });
    // Each recorded root is a prefix of the ledger's current tree: the roots payout holds are the ledger's own.
    const current = (await (
      await fetch(url('ledger-anchoring', '/v1/ledger/checkpoint'), { headers: { accept: 'application/json' } })
    ).json()) as { treeSize: number; rootHash: string };
    for (const { size, root } of seen.filter((c) => Number(c.size) < current.treeSize)) {
      const res = await fetch(
        url('ledger-anchoring', `/v1/ledger/proofs/consistency?from=${size}&to=${current.treeSize}`),
      );
      const { hashes } = (await res.json()) as { hashes: string[] };
      expect(() =>
        verifyConsistency(
          Number(size),
          current.treeSize,
          hashes.map((h) => Buffer.from(h, 'base64')),
          Buffer.from(root, 'base64'),
          Buffer.from(current.rootHash, 'base64'),
        ),
      ).not.toThrow();
    }
  }, 120_000);

  it('rejects a confirmation that does not match the claim and pays nothing, until its provider corrects it', async () => {
    const { id } = await submit(fhirClaim(`p-${uuidv4()}`));
    const confirmed = await confirm(id, [{ system: CPT, code: '99213', quantity: 1, performedAt: '2026-11-19' }]);
    expect([201, 202]).toContain(confirmed.status);
    const claim = await waitFor('the claim to be rejected', async () => {
      const body = (await (await fetch(url('claim-intake', `/v1/claims/${id}`), { headers: asInsurer() })).json()) as {
        status: string;
      };
      return body.status === 'verification-rejected' ? body : undefined;
    });
    expect(claim).toMatchObject({ status: 'verification-rejected' });
    const confirmation = (await (
      await fetch(url('treatment-verification', confirmed.location), { headers: asProvider() })
    ).json()) as {
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
    // The provider corrects it (ADR 19): the correction supersedes the rejection and verifies line 1 alone, which
    // is paid (80 % of 120.00); line 2, still not performed, is denied.
    const second = await confirm(id, [{ system: CPT, code: '99213', quantity: 1, performedAt: '2026-11-20' }]);
    expect(second.status).toBe(201);
    const corrected = (await (
      await fetch(url('treatment-verification', second.location), { headers: asProvider() })
    ).json()) as { outcome: string; supersedes: string };
    expect(corrected).toMatchObject({ outcome: 'verified', supersedes: confirmed.location.split('/').pop() });
    const paid = await waitFor('the corrected claim to be paid', async () => {
      const body = (await (await fetch(url('claim-intake', `/v1/claims/${id}`), { headers: asInsurer() })).json()) as {
        status: string;
      };
      return body.status === 'paid' ? body : undefined;
    });
    expect(paid).toMatchObject({ status: 'paid', paid: '96.00', decision: 'partial' });
  });

  it('keeps a confirmation that arrives before its claim pending, and decides it when the claim arrives', async () => {
    const claimId = uuidv4();
    const early = await confirm(claimId, [{ system: CPT, code: '99213', quantity: 1, performedAt: '2026-11-20' }]);
    expect(early.status).toBe(202);
    const pending = (await (
      await fetch(url('treatment-verification', early.location), { headers: asProvider() })
    ).json()) as { outcome: string };
    expect(pending.outcome).toBe('pending');

    // The claim event arrives late (published here straight to the topic, as claim-intake's relay would).
    const kafka = createKafka('e2e-late-claim', process.env.KAFKA_BROKERS!.split(','));
    const producer = kafka.producer();
    await producer.connect();
    const event = buildEvent(
      Topics.ClaimsSubmitted,
      claimSubmittedDraft(claimId, {
        insurerId: 'insurer-e2e',
        providerId: 'clinic-e2e',
        source: 'claimchain/claim-intake',
      }),
    );
    await producer.send({
      topic: Topics.ClaimsSubmitted,
      messages: [{ key: claimId, value: ownerSigned(Topics.ClaimsSubmitted, event) }],
    });
    await producer.disconnect();

    const decided = await waitFor('the pending confirmation to be decided', async () => {
      const body = (await (
        await fetch(url('treatment-verification', early.location), { headers: asProvider() })
      ).json()) as { outcome: string };
      return body.outcome !== 'pending' ? body : undefined;
    });
    expect(decided.outcome).toBe('verified');
  });

  it('answers confirmations posted at the same moment each on its own: one per claim, a duplicate is a conflict', async () => {
    const performed = [{ system: CPT, code: '99213', quantity: 1, performedAt: '2026-11-20' }];
    const twice = uuidv4();
    const others = [uuidv4(), uuidv4(), uuidv4()];
    // Sent together, so they share the service's group commit; each still gets its own answer.
    const answers = await Promise.all([twice, twice, ...others].map((claimId) => confirm(claimId, performed)));
    expect(
      answers
        .slice(0, 2)
        .map((a) => a.status)
        .sort(),
    ).toEqual([202, 409]);
    expect(answers.slice(2).map((a) => a.status)).toEqual([202, 202, 202]);
    const locations = answers.filter((a) => a.status === 202).map((a) => a.location);
    expect(new Set(locations).size).toBe(4);
    const recorded = await Promise.all(
      locations.map(async (location) => {
        const res = await fetch(url('treatment-verification', location), { headers: asProvider() });
        return ((await res.json()) as { claimId: string }).claimId;
      }),
    );
    expect(recorded.sort()).toEqual([twice, ...others].sort());
  });

  it('answers an invalid claim with problem+json naming each offending field', async () => {
    const bad = fhirClaim('p-1') as Record<string, unknown>;
    delete bad.patient;
    (bad.item as { quantity: unknown }[])[0].quantity = { value: -1 };
    const res = await fetch(url('claim-intake', '/v1/claims'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...asInsurer(), ...newKey() },
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
