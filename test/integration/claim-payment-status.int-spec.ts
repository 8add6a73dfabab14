import { DataSource } from 'typeorm';
import { v4 as uuidv4 } from 'uuid';
import { migratedDataSource } from '@claimchain/testing';
import { dataSourceOptions } from '../../apps/claim-intake/src/persistence/data-source.options';
import { ClaimsRepository } from '../../apps/claim-intake/src/persistence/claims.repository';

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
    claims = new ClaimsRepository(ds);
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

  it('folds a batch of advances as if applied one by one: the highest status first reached, the latest amounts', async () => {
    const paid = await adjudicatedClaim();
    const tie = await adjudicatedClaim();
    await claims.advanceMany(ds.manager, [
      { claimId: paid, status: 'verified' },
      { claimId: tie, status: 'denied', decision: 'denied' },
      { claimId: paid, status: 'adjudicated', payable: '80.00', decision: 'partial' },
      { claimId: paid, status: 'paid', paid: '80.00' },
      { claimId: paid, status: 'verified' },
    ]);
    expect(await statusOf(paid)).toMatchObject({
      status: 'paid',
      payable: '80.00',
      paid: '80.00',
      decision: 'partial',
    });
    // A status of the same rank does not replace the current one; its other facts still land, as with advance().
    expect(await statusOf(tie)).toMatchObject({ status: 'adjudicated', decision: 'denied' });
  });

  it('shows a failed payout as payment-failed, even when its release is consumed afterwards', async () => {
    const id = await adjudicatedClaim();
    await claims.setPaymentState(ds.manager, id, 'payment-failed', t(10));
    expect((await statusOf(id)).status).toBe('payment-failed');
    await claims.advance(ds.manager, id, 'paid', { paid: '96.00' });
    expect(await statusOf(id)).toMatchObject({ status: 'payment-failed', paid: '96.00' });
  });

  it('is paid again once ops retry it or it settles after the failure', async () => {
    const id = await adjudicatedClaim();
    await claims.advance(ds.manager, id, 'paid', { paid: '96.00' });
    await claims.setPaymentState(ds.manager, id, 'payment-failed', t(10));
    await claims.setPaymentState(ds.manager, id, 'paid', t(20), '96.00');
    expect((await statusOf(id)).status).toBe('paid');
    await claims.setPaymentState(ds.manager, id, 'payment-failed', t(30));
    expect((await statusOf(id)).status).toBe('payment-failed');
  });

  it('keeps a settled claim paid when an older failure is consumed after the settlement', async () => {
    const id = await adjudicatedClaim();
    await claims.setPaymentState(ds.manager, id, 'paid', t(20), '96.00');
    await claims.setPaymentState(ds.manager, id, 'payment-failed', t(10));
    expect(await statusOf(id)).toMatchObject({ status: 'paid', paid: '96.00' });
  });
});
