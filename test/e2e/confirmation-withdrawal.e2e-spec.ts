import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { v4 as uuidv4 } from 'uuid';
import { reviewAbove100Contract, waitFor } from '@claimchain/testing';
import { runCli } from '../../tools/verifier/src/verifier.cli';
import { fhirClaim, fhirClaimTreatments, newKey, RunningSystem, startSystem } from './system';

interface Confirmation {
  confirmationId: string;
  outcome: string;
  reasons: { code: string; message: string }[];
}
interface Claim {
  status: string;
  timeline: { type: string; event: { data: Record<string, unknown> } | null }[];
}

/**
 * Issue 15 item 4 end to end on the real broker (ADR 22): a provider withdraws its verified confirmation; payout,
 * which had not decided the claim, stops it, and a corrected confirmation then pays; a withdrawal after payout paid
 * is refused and the claim stays paid; another provider cannot withdraw it; and a cancellation payout refused shows
 * in treatment-verification as a confirmation still verified. A withdrawal while the claim is pended for review
 * sets that decision aside (ADR 25): no reviewer can pay on the withdrawn verification, the correction decides.
 */
describe('withdrawing a verified confirmation before payout', () => {
  let system: RunningSystem;
  let tvDb: DataSource;
  let payoutDb: DataSource;
  const insurerId = `insurer-wd-${uuidv4().slice(0, 8)}`;
  const providerId = `clinic-wd-${uuidv4().slice(0, 8)}`;

  beforeAll(async () => {
    system = await startSystem();
    tvDb = system.app('treatment-verification').get(DataSource);
    payoutDb = system.app('payout').get(DataSource);
  }, 120_000);

  afterAll(async () => {
    await system?.stop();
  });

  const tv = async (method: string, path: string, body?: unknown, as = providerId) =>
    fetch(system.url('treatment-verification', path), {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(method === 'POST' ? newKey() : {}),
        ...(await system.as('provider', as)),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const confirm = async (claimId: string) => {
    const res = await tv('POST', '/v1/confirmations', { claimId, performed: fhirClaimTreatments() });
    expect(res.status).toBe(201);
    return (await res.json()) as Confirmation;
  };
  const confirmationBecomes = async (id: string, done: (c: Confirmation) => boolean) => {
    let found: Confirmation | undefined;
    await waitFor(`confirmation ${id}`, async () =>
      done((found = (await (await tv('GET', `/v1/confirmations/${id}`)).json()) as Confirmation)),
    );
    return found!;
  };
  const submit = async (insurer = insurerId) => {
    const res = await fetch(system.url('claim-intake', '/v1/claims'), {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', ...(await system.as('insurer', insurer)), ...newKey() },
      body: JSON.stringify(fhirClaim(`p-${uuidv4()}`, insurer, providerId)),
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    await waitFor(
      'treatment-verification to have the claim',
      async () => (await tvDb.query(`SELECT 1 FROM claims WHERE claim_id = $1`, [id])).length === 1,
    );
    return id;
  };
  const claimOf = async (id: string, insurer = insurerId) =>
    (await (
      await fetch(system.url('claim-intake', `/v1/claims/${id}`), { headers: await system.as('insurer', insurer) })
    ).json()) as Claim;
  const timelineHas = async (id: string, type: string, insurer = insurerId) => {
    let entry: Claim['timeline'][number] | undefined;
    await waitFor(`${type} in claim ${id}'s timeline`, async () => {
      entry = (await claimOf(id, insurer)).timeline.find((e) => e.type === type);
      return entry !== undefined;
    });
    return entry!.event!.data;
  };
  const payoutsOf = async (claimId: string) =>
    (await payoutDb.query(`SELECT amount::text FROM payouts WHERE claim_id = $1`, [claimId])) as { amount: string }[];
  const paid = (claimId: string) =>
    waitFor(`payout to pay ${claimId}`, async () => (await payoutsOf(claimId)).length === 1);
  const verifiedEventOf = async (confirmationId: string) => {
    const rows: { id: string }[] = await tvDb.query(
      `SELECT event_id::text AS id FROM outbox WHERE topic = 'treatments.verified.v1' AND payload->'data'->>'confirmationId' = $1`,
      [confirmationId],
    );
    return rows[0].id;
  };

  it('is stopped while payout has not decided the claim, and a corrected confirmation then pays it', async () => {
    const claimId = await submit();
    // Payout decides a claim only once the ledger anchored its verification: while the ledger's consumer cannot
    // record anything, payout cannot pay, and the withdrawal (which needs no anchor) is decided first.
    const ledgerDb = system.app('ledger-anchoring').get(DataSource);
    const held = ledgerDb.createQueryRunner();
    await held.connect();
    await held.startTransaction();
    let first: Confirmation;
    try {
      await held.query(`LOCK TABLE inbox IN SHARE ROW EXCLUSIVE MODE`);
      first = await confirm(claimId);
      expect(first.outcome).toBe('verified');
      const res = await tv('POST', `/v1/confirmations/${first.confirmationId}/withdraw`, { reason: 'wrong date' });
      expect(res.status).toBe(202);
      expect(((await res.json()) as Confirmation).outcome).toBe('withdrawal-requested');
      const withdrawn = await confirmationBecomes(first.confirmationId, (c) => c.outcome === 'withdrawn');
      expect(withdrawn.reasons.at(-1)!.code).toBe('WITHDRAWN');
    } finally {
      await held.rollbackTransaction();
      await held.release();
    }
    // The ledger catches up and payout gets the withdrawn verification's anchor: it pays nothing on it.
    const withdrawnEvent = await verifiedEventOf(first.confirmationId);
    await waitFor(
      'payout to hold the withdrawn verification’s anchor',
      async () =>
        (await payoutDb.query(`SELECT 1 FROM verification_anchors WHERE event_id = $1`, [withdrawnEvent])).length === 1,
    );
    expect(await payoutDb.query(`SELECT 1 FROM adjudications WHERE claim_id = $1`, [claimId])).toEqual([]);
    expect(await payoutsOf(claimId)).toEqual([]);
    expect(await timelineHas(claimId, 'payout.withdrawal-decided')).toMatchObject({
      outcome: 'stopped',
      confirmationId: first.confirmationId,
    });
    expect(await timelineHas(claimId, 'treatment.withdrawal-requested')).toMatchObject({ reason: 'wrong date' });

    const corrected = await confirm(claimId);
    expect(corrected.outcome).toBe('verified');
    await paid(claimId);
    const [decision] = (await payoutDb.query(
      `SELECT result->>'verifiedEventId' AS v FROM adjudications WHERE claim_id = $1`,
      [claimId],
    )) as { v: string }[];
    expect(decision.v).toBe(await verifiedEventOf(corrected.confirmationId));
    await waitFor('the claim paid in claim-intake', async () => (await claimOf(claimId)).status === 'paid');
  });

  it('is refused once payout paid the claim, which stays paid; another provider cannot withdraw it', async () => {
    const claimId = await submit();
    const confirmation = await confirm(claimId);
    await paid(claimId);
    const stranger = await tv(
      'POST',
      `/v1/confirmations/${confirmation.confirmationId}/withdraw`,
      undefined,
      'clinic-other',
    );
    expect(stranger.status).toBe(404);

    const res = await tv('POST', `/v1/confirmations/${confirmation.confirmationId}/withdraw`);
    expect(res.status).toBe(202);
    const refused = await confirmationBecomes(confirmation.confirmationId, (c) => c.outcome === 'withdrawal-refused');
    expect(refused.reasons.at(-1)!.code).toBe('WITHDRAWAL_REFUSED');
    expect(await timelineHas(claimId, 'payout.withdrawal-decided')).toMatchObject({
      outcome: 'refused',
      decision: 'approved',
    });
    expect(await payoutsOf(claimId)).toHaveLength(1);
    await waitFor('the claim paid in claim-intake', async () => (await claimOf(claimId)).status === 'paid');
  });

  it('sets aside a decision pended for review on the withdrawn verification; the correction decides again', async () => {
    const reviewing = `insurer-wd-review-${uuidv4().slice(0, 8)}`;
    const insurer = await system.as('insurer', reviewing);
    const published = await fetch(system.url('payout', '/v1/contracts'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...insurer, ...newKey() },
      body: JSON.stringify(reviewAbove100Contract()),
    });
    expect(published.status).toBe(201);
    const reviewQueue = async () =>
      (
        (await (await fetch(system.url('payout', '/v1/reviews'), { headers: insurer })).json()) as {
          items: { claimId: string }[];
        }
      ).items.map((i) => i.claimId);
    const review = (claimId: string) =>
      fetch(system.url('payout', `/v1/reviews/${claimId}/decision`), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...insurer, ...newKey() },
        body: JSON.stringify({ decision: 'approve', reason: 'visit length documented' }),
      });
    const pendedOn = async (claimId: string) =>
      (
        (await payoutDb.query(
          `SELECT result->>'verifiedEventId' AS v FROM adjudications WHERE claim_id = $1 AND decision = 'pended'`,
          [claimId],
        )) as { v: string }[]
      ).map((r) => r.v);

    const claimId = await submit(reviewing);
    const first = await confirm(claimId);
    await waitFor('the claim pended for review', async () => (await reviewQueue()).includes(claimId), {
      timeoutMs: 60_000,
    });
    const res = await tv('POST', `/v1/confirmations/${first.confirmationId}/withdraw`, { reason: 'wrong patient' });
    expect(res.status).toBe(202);
    const withdrawn = await confirmationBecomes(first.confirmationId, (c) => c.outcome === 'withdrawn');
    expect(withdrawn.reasons.at(-1)).toMatchObject({
      code: 'WITHDRAWN',
      message: expect.stringMatching(/set .* aside/),
    });
    expect(await timelineHas(claimId, 'payout.withdrawal-decided', reviewing)).toMatchObject({
      outcome: 'stopped',
      setAside: 'pended',
      confirmationId: first.confirmationId,
    });
    // The reviewer can no longer pay the claim on the verification its provider took back, and is told why.
    expect(await reviewQueue()).not.toContain(claimId);
    const refused = await review(claimId);
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { code: string }).code).toBe('REVIEW.VERIFICATION_WITHDRAWN');
    expect(await pendedOn(claimId)).toEqual([]);
    expect(await payoutsOf(claimId)).toEqual([]);

    // The correction decides the claim afresh: pended again (the same visit, the same contract), on its own
    // verification, and the reviewer's approval then pays it once.
    const corrected = await confirm(claimId);
    expect(corrected.outcome).toBe('verified');
    await waitFor('the corrected claim pended for review', async () => (await reviewQueue()).includes(claimId), {
      timeoutMs: 60_000,
    });
    expect(await pendedOn(claimId)).toEqual([await verifiedEventOf(corrected.confirmationId)]);
    const approved = await review(claimId);
    expect(approved.status).toBe(200);
    expect(await approved.json()).toEqual({ claimId, decision: 'approved', payable: '120.40', currency: 'EUR' });
    await paid(claimId);
    expect(await payoutsOf(claimId)).toEqual([{ amount: '120.40' }]);

    // The claim's receipt carries the set-aside answer as the ledger recorded it, and verifies offline.
    const receipt = await waitFor(
      'the receipt to hold the set-aside answer and the payment',
      async () => {
        const res = await fetch(system.url('claim-intake', `/v1/claims/${claimId}/receipt`), { headers: insurer });
        if (res.status !== 200) return undefined;
        const r = (await res.json()) as { entries: { event: { type: string; data: Record<string, unknown> } }[] };
        const types = r.entries.map((e) => e.event.type);
        return types.includes('payout.withdrawal-decided') && types.includes('payout.released') ? r : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect(receipt.entries.find((e) => e.event.type === 'payout.withdrawal-decided')!.event.data).toMatchObject({
      outcome: 'stopped',
      setAside: 'pended',
    });
    const vkey = (await (await fetch(system.url('ledger-anchoring', '/v1/ledger/public-key'))).text()).trim();
    const file = join(mkdtempSync(join(tmpdir(), 'set-aside-receipt-')), 'receipt.json');
    writeFileSync(file, JSON.stringify(receipt));
    const out: string[] = [];
    const io = { stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => out.push(t) } };
    expect(await runCli(['receipt', file, '--key', vkey], io)).toBe(0);
  });

  it('shows a cancellation payout refused as a confirmation still verified', async () => {
    const claimId = await submit();
    // claim-intake's read model lags behind payout (its consumer cannot record anything while this transaction
    // holds its inbox), so the insurer can still ask to cancel a claim payout has paid, and payout refuses.
    const intakeDb = system.app('claim-intake').get(DataSource);
    const lag = intakeDb.createQueryRunner();
    await lag.connect();
    await lag.startTransaction();
    let confirmation: Confirmation;
    try {
      await lag.query(`LOCK TABLE inbox IN SHARE ROW EXCLUSIVE MODE`);
      confirmation = await confirm(claimId);
      await paid(claimId);
      const cancel = await fetch(system.url('claim-intake', `/v1/claims/${claimId}/cancel`), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(await system.as('insurer', insurerId)) },
        body: JSON.stringify({ reason: 'sent twice' }),
      });
      expect(cancel.status).toBe(202);
    } finally {
      await lag.rollbackTransaction();
      await lag.release();
    }
    const shown = await confirmationBecomes(confirmation.confirmationId, (c) =>
      c.reasons.some((r) => r.code === 'CANCELLATION_REFUSED'),
    );
    expect(shown.outcome).toBe('verified');
    expect(await payoutsOf(claimId)).toHaveLength(1);
    await waitFor('the claim paid in claim-intake', async () => (await claimOf(claimId)).status === 'paid');
  });
});
