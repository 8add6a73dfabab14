import { DataSource } from 'typeorm';
import { v4 as uuidv4 } from 'uuid';
import { migratedDataSource, testEventSigner } from '@claimchain/testing';
import { dataSourceOptions } from '../persistence/data-source.options';
import { ClaimsRepository } from './claims.repository';

/**
 * The payment part of a claim's status on the real Postgres: payouts.released/failed/retried/settled arrive on four
 * topics, so in any order, and the status must follow the latest of them by time, never the last one consumed.
 */
describe(`${ClaimsRepository.name} payment state`, () => {
  let ds: DataSource;
  let claims: ClaimsRepository;
  const t = (s: number) => new Date(Date.UTC(2026, 10, 25, 12, 0, s));

  beforeAll(async () => {
    ds = await migratedDataSource(
      `${process.env.DATABASE_PREFIX ?? 'claimchain_test'}_claim_payment_status`,
      dataSourceOptions(''),
    );
    claims = new ClaimsRepository(ds, testEventSigner('claim-intake'));
  });

  afterAll(async () => {
    await ds?.destroy();
  });

  async function adjudicatedClaim(): Promise<string> {
    const id = uuidv4();
    await ds.transaction(async (em) => {
      await claims.insertMany(em, [
        {
          id,
          insurerId: 'insurer-pay',
          providerId: 'clinic-pay',
          patientPseudonym: id,
          coverage: 'cov',
          currency: 'EUR',
          total: '120.00',
          submission: '{}',
          submissionSalt: '00'.repeat(16),
          lines: [],
          submittedAt: new Date(),
        },
      ]);
      await claims.advance(em, id, 'adjudicated', { payable: '96.00', decision: 'approved' });
    });
    return id;
  }
  const statusOf = async (id: string) => (await claims.find(id))!;
  type Payment = Parameters<ClaimsRepository['setPaymentStates']>[1][number];
  const pay = (claimId: string, status: Payment['status'], at: Date, paid?: string) =>
    claims.setPaymentStates(ds.manager, [{ claimId, status, at, paid }]);

  it('folds a batch of advances as if applied one by one: the highest status first reached, the latest amounts', async () => {
    const paid = await adjudicatedClaim();
    const tie = await adjudicatedClaim();
    await claims.advanceMany(ds.manager, [
      { claimId: paid, status: 'verified' },
      { claimId: tie, status: 'denied', decision: 'denied' },
      { claimId: paid, status: 'adjudicated', payable: '80.00', decision: 'partial' },
      { claimId: paid, status: 'payment-pending', paid: '80.00' },
      { claimId: paid, status: 'verified' },
    ]);
    expect(await statusOf(paid)).toMatchObject({
      status: 'payment-pending',
      payable: '80.00',
      paid: '80.00',
      decision: 'partial',
    });
    // A status of the same rank does not replace the current one; its other facts still land, as with advance().
    expect(await statusOf(tie)).toMatchObject({ status: 'adjudicated', decision: 'denied' });
  });

  it('moves a verification-rejected claim to verified when its provider corrected the confirmation, never back', async () => {
    const id = await adjudicatedClaim();
    await ds.query(`UPDATE claims SET status = 'submitted' WHERE id = $1`, [id]);
    await claims.advanceMany(ds.manager, [{ claimId: id, status: 'verification-rejected' }]);
    await claims.advanceMany(ds.manager, [{ claimId: id, status: 'verified' }]);
    expect((await statusOf(id)).status).toBe('verified');
    await claims.advanceMany(ds.manager, [{ claimId: id, status: 'verification-rejected' }]);
    expect((await statusOf(id)).status).toBe('verified');
  });

  it('shows a failed payout as payment-failed, even when its release is consumed afterwards', async () => {
    const id = await adjudicatedClaim();
    await pay(id, 'payment-failed', t(10));
    expect((await statusOf(id)).status).toBe('payment-failed');
    await claims.advance(ds.manager, id, 'payment-pending', { paid: '96.00' });
    expect(await statusOf(id)).toMatchObject({ status: 'payment-failed', paid: '96.00' });
  });

  it('is payment-pending from its release until its rail settles it, never paid before (issue 14)', async () => {
    const id = await adjudicatedClaim();
    await claims.advance(ds.manager, id, 'payment-pending', { paid: '96.00' });
    expect(await statusOf(id)).toMatchObject({ status: 'payment-pending', paid: '96.00' });
    await pay(id, 'paid', t(20), '96.00');
    expect((await statusOf(id)).status).toBe('paid');
    // The release consumed after the settlement (another topic) does not take it back to pending.
    const late = await adjudicatedClaim();
    await pay(late, 'paid', t(20), '96.00');
    await claims.advance(ds.manager, late, 'payment-pending', { paid: '96.00' });
    expect(await statusOf(late)).toMatchObject({ status: 'paid', paid: '96.00' });
  });

  it('is payment-pending again once ops retry it, and paid once it settles after the failure', async () => {
    const id = await adjudicatedClaim();
    await claims.advance(ds.manager, id, 'payment-pending', { paid: '96.00' });
    await pay(id, 'payment-failed', t(10));
    await pay(id, 'payment-pending', t(15), '96.00');
    expect((await statusOf(id)).status).toBe('payment-pending');
    await pay(id, 'paid', t(20), '96.00');
    expect((await statusOf(id)).status).toBe('paid');
    await pay(id, 'payment-failed', t(30));
    expect((await statusOf(id)).status).toBe('payment-failed');
  });

  it('keeps a settled claim paid when an older failure is consumed after the settlement', async () => {
    const id = await adjudicatedClaim();
    await pay(id, 'paid', t(20), '96.00');
    await pay(id, 'payment-failed', t(10));
    expect(await statusOf(id)).toMatchObject({ status: 'paid', paid: '96.00' });
  });

  it('folds a batch of payment events, of one claim or several, exactly as if they were applied one by one', async () => {
    const f = (s: number): Omit<Payment, 'claimId'> => ({ status: 'payment-failed', at: t(s) });
    const p = (s: number, paid = '96.00'): Omit<Payment, 'claimId'> => ({ status: 'paid', at: t(s), paid });
    const sequences: Omit<Payment, 'claimId'>[][] = [
      [f(10), p(20), f(5)],
      [p(20), f(30)],
      [f(30), p(20, '90.00'), p(30, '80.00')],
      [p(10), f(10), p(10, '70.00')],
      [f(10)],
    ];
    const oneByOne: string[] = [];
    const batched: string[] = [];
    const batch: Payment[] = [];
    for (const sequence of sequences) {
      const a = await adjudicatedClaim();
      for (const e of sequence) await pay(a, e.status, e.at, e.paid);
      oneByOne.push(a);
      const b = await adjudicatedClaim();
      batch.push(...sequence.map((e) => ({ ...e, claimId: b })));
      batched.push(b);
    }
    await claims.setPaymentStates(ds.manager, batch);
    const facts = async (ids: string[]) =>
      Promise.all(ids.map(async (id) => ({ status: (await statusOf(id)).status, paid: (await statusOf(id)).paid })));
    const expected = await facts(oneByOne);
    expect(expected.map((e) => e.status)).toEqual(['paid', 'payment-failed', 'paid', 'paid', 'payment-failed']);
    expect(await facts(batched)).toEqual(expected);
  });
});
