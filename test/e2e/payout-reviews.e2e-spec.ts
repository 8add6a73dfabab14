import { DataSource } from 'typeorm';
import { v4 as uuidv4 } from 'uuid';
import { Topics } from '@claimchain/wire';
import { reviewAbove100Contract, waitFor } from '@claimchain/testing';
import { fhirClaim, fhirClaimTreatments, newKey, RunningSystem, startSystem } from './system';

interface ReviewItem {
  claimId: string;
  lines: { sequence: number; status: string; pendReasons: string[] }[];
}

describe('payout review queue for pended claims', () => {
  let system: RunningSystem;
  const tenant = `insurer-${uuidv4()}`;
  let insurer: { authorization: string };
  let otherInsurer: { authorization: string };
  let provider: { authorization: string };
  const url = (path: string) => system.url('payout', path);

  beforeAll(async () => {
    system = await startSystem();
    insurer = await system.as('insurer', tenant);
    otherInsurer = await system.as('insurer', `other-${uuidv4()}`);
    provider = await system.as('provider', 'clinic-e2e');
    const published = await fetch(url('/v1/contracts'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...insurer, ...newKey() },
      body: JSON.stringify(reviewAbove100Contract()),
    });
    expect(published.status).toBe(201);
  }, 120_000);

  afterAll(async () => {
    await system?.stop();
  });

  /** Submits the standard two-line claim (99213 at 120.00 is above the limit) and confirms it. */
  async function pendedClaim(): Promise<string> {
    const submitted = await fetch(system.url('claim-intake', '/v1/claims'), {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', ...insurer, ...newKey() },
      body: JSON.stringify(fhirClaim(`p-${uuidv4()}`, tenant)),
    });
    const { id } = (await submitted.json()) as { id: string };
    const confirmed = await fetch(system.url('treatment-verification', '/v1/confirmations'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...provider, ...newKey() },
      body: JSON.stringify({
        claimId: id,
        performed: fhirClaimTreatments(),
      }),
    });
    expect([201, 202]).toContain(confirmed.status);
    await waitFor(
      'the claim to be pended',
      async () => {
        const body = (await (await fetch(url('/v1/reviews'), { headers: insurer })).json()) as { items: ReviewItem[] };
        return body.items.some((i) => i.claimId === id);
      },
      { timeoutMs: 60_000 },
    );
    return id;
  }

  const decide = (claimId: string, body: unknown, auth = insurer, key = newKey()) =>
    fetch(url(`/v1/reviews/${claimId}/decision`), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth, ...key },
      body: JSON.stringify(body),
    });

  const paidOf = async (claimId: string) =>
    (
      (await (await fetch(system.url('claim-intake', `/v1/claims/${claimId}`), { headers: insurer })).json()) as {
        status: string;
        paid: string | null;
      }
    ).paid;

  it('holds a pended claim unpaid in the queue until a reviewer approves it, then pays it once', async () => {
    const claimId = await pendedClaim();
    const payoutDb = system.app('payout').get(DataSource);
    const [{ n: pendedEvents }] = await payoutDb.query(
      `SELECT count(*)::int AS n FROM outbox WHERE message_key = $1 AND topic = $2`,
      [claimId, Topics.ClaimsPended],
    );
    expect(pendedEvents).toBe(1);
    const queue = (await (await fetch(url('/v1/reviews'), { headers: insurer })).json()) as { items: ReviewItem[] };
    expect(queue.items.find((i) => i.claimId === claimId)!.lines).toEqual([
      expect.objectContaining({ sequence: 1, status: 'pended', pendReasons: ['per-code-limit:100.00'] }),
      expect.objectContaining({ sequence: 2, status: 'approved', pendReasons: [] }),
    ]);
    expect(await paidOf(claimId)).toBeNull();
    // The insurer sees it as pended in claim-intake too.
    await waitFor('claim-intake to show the claim pended', async () => {
      const claim = (await (
        await fetch(system.url('claim-intake', `/v1/claims/${claimId}`), { headers: insurer })
      ).json()) as { status: string; decision: string | null };
      return claim.status === 'pended' && claim.decision === 'pended';
    });
    const queued = (await (await fetch(url(`/v1/remittances/${claimId}`), { headers: insurer })).json()) as {
      outcome: string;
    };
    expect(queued.outcome).toBe('queued');
    // Another insurer neither sees nor decides it.
    const theirs = (await (await fetch(url('/v1/reviews'), { headers: otherInsurer })).json()) as { items: unknown[] };
    expect(theirs.items).toEqual([]);
    expect((await decide(claimId, { decision: 'approve', reason: 'x' }, otherInsurer)).status).toBe(404);

    const key = newKey();
    const approved = await decide(claimId, { decision: 'approve', reason: 'visit length documented' }, insurer, key);
    expect(approved.status).toBe(200);
    expect(await approved.json()).toEqual({ claimId, decision: 'approved', payable: '120.40', currency: 'EUR' });
    const replayed = await decide(claimId, { decision: 'approve', reason: 'visit length documented' }, insurer, key);
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    const again = await decide(claimId, { decision: 'deny', reason: 'changed my mind', denialCode: 'CO-50' });
    expect(again.status).toBe(409);

    // The amount shows from the release (payment-pending); the status is paid once the rail settled it.
    await waitFor('the claim to be paid', async () => (await paidOf(claimId)) === '120.40', { timeoutMs: 60_000 });
    const paid = await waitFor('the payment to settle', async () => {
      const claim = (await (
        await fetch(system.url('claim-intake', `/v1/claims/${claimId}`), { headers: insurer })
      ).json()) as { status: string };
      return claim.status === 'paid' ? claim : undefined;
    });
    expect(paid.status).toBe('paid');
    expect(await (await fetch(url(`/v1/remittances/${claimId}`), { headers: insurer })).json()).toMatchObject({
      outcome: 'complete',
      disposition: 'approved after review',
    });
    const [{ n: payouts }] = await payoutDb.query(`SELECT count(*)::int AS n FROM payouts WHERE claim_id = $1`, [
      claimId,
    ]);
    expect(payouts).toBe(1);
    const queueAfter = (await (await fetch(url('/v1/reviews'), { headers: insurer })).json()) as {
      items: ReviewItem[];
    };
    expect(queueAfter.items.map((i) => i.claimId)).not.toContain(claimId);
  }, 120_000);

  it("denies the pended lines with the reviewer's code and pays the rest", async () => {
    const claimId = await pendedClaim();
    const denied = await decide(claimId, { decision: 'deny', reason: 'not medically necessary', denialCode: 'CO-50' });
    expect(await denied.json()).toEqual({ claimId, decision: 'partial', payable: '24.40', currency: 'EUR' });
    await waitFor('the rest to be paid', async () => (await paidOf(claimId)) === '24.40', { timeoutMs: 60_000 });
  }, 120_000);

  it('refuses a deny without a denial code', async () => {
    const res = await decide(uuidv4(), { decision: 'deny', reason: 'no code' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errors: { pointer: string }[] }).errors.map((e) => e.pointer)).toEqual([
      '/denialCode',
    ]);
  });
});
