import { DataSource } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { CloudEvent, PayoutWithdrawalDecidedV1, Topics, TreatmentVerifiedV1 } from '@claimchain/wire';
import { buildEvent } from '@claimchain/messaging';
import { claimSubmittedDraft, CPT, migratedDataSource, testOutboxWriter } from '@claimchain/testing';
import { dataSourceOptions } from '../persistence/data-source.options';
import { AdjudicationRepository } from './adjudication.repository';
import { DecideWithdrawalService } from './decide-withdrawal.service';
import { contractIdOf, DEMO_CONTRACT } from '../engine/contract.definition';

/**
 * Payout's answer to a provider's withdrawal of its verification (ADR 22) on the real Postgres: stopped while the
 * claim is undecided (the verification forgotten, and never stored if it comes after its withdrawal, so the
 * correction's can take its place); stopped too while the claim is pended for review on that verification, whose
 * decision is then set aside (ADR 25); refused once it is decided, reviewed or cancelled, with the decision and payout.
 */
describe(`${DecideWithdrawalService.name} on the real Postgres`, () => {
  let ds: DataSource;
  const repo = new AdjudicationRepository();
  const service = new DecideWithdrawalService(repo, testOutboxWriter('payout'));
  const contractId = contractIdOf(DEMO_CONTRACT);

  beforeAll(async () => {
    ds = await migratedDataSource(`${process.env.DATABASE_PREFIX}_payout_withdrawals`, dataSourceOptions(''));
    await ds.query(
      `INSERT INTO contracts (id, insurer_id, name, version, definition) VALUES ($1, $2, 'demo', '1', $3)`,
      [contractId, DEMO_CONTRACT.insurerId, JSON.stringify(DEMO_CONTRACT)],
    );
  });

  afterAll(async () => {
    await ds?.destroy();
  });

  const claim = async () => {
    const claimId = uuidv7();
    await ds.transaction((em) =>
      repo.rememberFacts(em, {
        claims: [buildEvent(Topics.ClaimsSubmitted, claimSubmittedDraft(claimId))],
        verifications: [],
        anchors: [],
      }),
    );
    return claimId;
  };
  const verification = (claimId: string, confirmationId = uuidv7()): CloudEvent<TreatmentVerifiedV1> =>
    buildEvent(Topics.TreatmentsVerified, {
      source: 'claimchain/treatment-verification',
      subject: claimId,
      tenantid: 'insurer-test',
      data: {
        claimId,
        confirmationId,
        providerId: 'provider-test',
        items: [{ sequence: 1, system: CPT, code: '99213', quantity: 1, performedAt: '2026-11-20' }],
        verifiedAt: new Date().toISOString(),
      },
    });
  const withdrawal = (verified: CloudEvent<TreatmentVerifiedV1>) =>
    buildEvent(Topics.TreatmentsWithdrawalRequested, {
      source: 'claimchain/treatment-verification',
      subject: verified.data.claimId,
      tenantid: 'insurer-test',
      data: {
        claimId: verified.data.claimId,
        insurerId: 'insurer-test',
        providerId: 'provider-test',
        confirmationId: verified.data.confirmationId,
        requestedAt: new Date().toISOString(),
      },
    });
  const store = (verified: CloudEvent<TreatmentVerifiedV1>) =>
    ds.transaction((em) => repo.rememberFacts(em, { claims: [], verifications: [verified], anchors: [] }));
  const decide = (event: ReturnType<typeof withdrawal>) =>
    ds.transaction(async (em) => {
      await repo.lockClaim(em, event.data.claimId);
      await service.decide(em, [event]);
    });
  const answerTo = async (event: CloudEvent): Promise<PayoutWithdrawalDecidedV1> => {
    const rows: { payload: CloudEvent<PayoutWithdrawalDecidedV1> }[] = await ds.query(
      `SELECT payload FROM outbox WHERE topic = $1 AND payload->'data'->>'withdrawalEventId' = $2`,
      [Topics.PayoutsWithdrawalDecided, event.id],
    );
    expect(rows).toHaveLength(1);
    return rows[0].payload.data;
  };
  const verificationOf = async (claimId: string) =>
    (
      (await ds.query(`SELECT event_id::text AS id FROM verifications WHERE claim_id = $1`, [claimId])) as {
        id: string;
      }[]
    ).map((r) => r.id);

  /**
   * The withdrawn verification is gone and, redelivered, not stored again; the correction's is stored in its place.
   * Returns the correction.
   */
  async function expectForgottenThenCorrected(claimId: string, withdrawn: CloudEvent<TreatmentVerifiedV1>) {
    expect(await verificationOf(claimId)).toEqual([]);
    await store(withdrawn);
    expect(await verificationOf(claimId)).toEqual([]);
    const corrected = verification(claimId);
    await store(corrected);
    expect(await verificationOf(claimId)).toEqual([corrected.id]);
    return corrected;
  }

  it('stops a withdrawal of a verification it holds, forgets it, and takes the correction’s', async () => {
    const claimId = await claim();
    const first = verification(claimId);
    await store(first);
    const request = withdrawal(first);
    await decide(request);
    expect(await answerTo(request)).toMatchObject({
      outcome: 'stopped',
      claimId,
      confirmationId: first.data.confirmationId,
      providerId: 'provider-test',
    });
    await expectForgottenThenCorrected(claimId, first);
  });

  it('stops a withdrawal consumed before its verification, which is then never stored', async () => {
    const claimId = await claim();
    const first = verification(claimId);
    const request = withdrawal(first);
    await decide(request);
    expect((await answerTo(request)).outcome).toBe('stopped');
    await store(first);
    expect(await verificationOf(claimId)).toEqual([]);
  });

  it('refuses once the claim was decided, with the decision and its payout', async () => {
    const claimId = await claim();
    const first = verification(claimId);
    await store(first);
    const payoutId = uuidv7();
    await ds.transaction(async (em) => {
      await repo.insertAdjudications(em, [
        { claimId, contractId, policyId: null, decision: 'approved', payable: '8.00', result: {} },
      ]);
      await repo.insertPayouts(em, [
        { id: payoutId, claimId, payeeId: 'provider-test', amount: '8.00', currency: 'EUR' },
      ]);
    });
    const request = withdrawal(first);
    await decide(request);
    expect(await answerTo(request)).toMatchObject({
      outcome: 'refused',
      decision: 'approved',
      payable: '8.00',
      currency: 'EUR',
      payout: { payoutId, amount: '8.00', status: 'released' },
    });
    expect(await verificationOf(claimId)).toEqual([first.id]);
  });

  /** The claim pended for review on `verified`, as AdjudicateClaimService records it. */
  const pend = (claimId: string, verified: CloudEvent<TreatmentVerifiedV1>) =>
    ds.transaction((em) =>
      repo.insertAdjudications(em, [
        {
          claimId,
          contractId,
          policyId: null,
          decision: 'pended',
          payable: '0.00',
          result: { contractId, verifiedEventId: verified.id, decision: 'pended' },
        },
      ]),
    );
  const decisionsOf = async (claimId: string) => ({
    standing: (
      (await ds.query(`SELECT decision FROM adjudications WHERE claim_id = $1`, [claimId])) as { decision: string }[]
    ).map((r) => r.decision),
    setAside: (await ds.query(
      `SELECT decision, withdrawal_event_id::text AS "withdrawalEventId", result->>'verifiedEventId' AS "verifiedEventId"
           FROM set_aside_adjudications WHERE claim_id = $1`,
      [claimId],
    )) as { decision: string; withdrawalEventId: string; verifiedEventId: string }[],
  });

  it('sets aside a decision pended on the withdrawn verification: no reviewer can pay on it, the correction decides', async () => {
    const claimId = await claim();
    const first = verification(claimId);
    await store(first);
    await pend(claimId, first);
    const request = withdrawal(first);
    await decide(request);
    expect(await answerTo(request)).toMatchObject({ outcome: 'stopped', setAside: 'pended', claimId });
    expect(await decisionsOf(claimId)).toEqual({
      standing: [],
      setAside: [{ decision: 'pended', withdrawalEventId: request.id, verifiedEventId: first.id }],
    });
    // The claim awaits the correction as any claim whose withdrawal was stopped, and the correction decides it (a
    // new decision is accepted).
    const corrected = await expectForgottenThenCorrected(claimId, first);
    await pend(claimId, corrected);
    expect((await decisionsOf(claimId)).standing).toEqual(['pended']);
  });

  it('refuses, with the pended decision, once the insurer cancelled the pended claim', async () => {
    const claimId = await claim();
    const first = verification(claimId);
    await store(first);
    await pend(claimId, first);
    await ds.query(`INSERT INTO cancellations (claim_id, event_id, cancelled_at) VALUES ($1, $2, now())`, [
      claimId,
      uuidv7(),
    ]);
    const request = withdrawal(first);
    await decide(request);
    expect(await answerTo(request)).toMatchObject({ outcome: 'refused', decision: 'pended', payout: null });
    expect(await decisionsOf(claimId)).toEqual({ standing: ['pended'], setAside: [] });
    expect(await verificationOf(claimId)).toEqual([first.id]);
  });

  it('refuses once a reviewer settled the pended claim, with the reviewed decision', async () => {
    const claimId = await claim();
    const first = verification(claimId);
    await store(first);
    await pend(claimId, first);
    await ds.query(
      `INSERT INTO review_decisions (claim_id, decision, reason, reviewer, outcome, payable, result)
       VALUES ($1, 'deny', 'not covered', 'reviewer-1', 'denied', 0, '{}')`,
      [claimId],
    );
    const request = withdrawal(first);
    await decide(request);
    expect(await answerTo(request)).toMatchObject({ outcome: 'refused', decision: 'denied', payable: '0.00' });
    expect(await decisionsOf(claimId)).toEqual({ standing: ['pended'], setAside: [] });
  });

  it('refuses a withdrawal of another verification than the one the claim was pended on', async () => {
    const claimId = await claim();
    const first = verification(claimId);
    await store(first);
    await pend(claimId, first);
    const request = withdrawal(verification(claimId));
    await decide(request);
    expect(await answerTo(request)).toMatchObject({ outcome: 'refused', decision: 'pended' });
    expect(await decisionsOf(claimId)).toEqual({ standing: ['pended'], setAside: [] });
    expect(await verificationOf(claimId)).toEqual([first.id]);
  });
});
