import { PayoutWithdrawalDecidedV1 } from '@claimchain/wire';
import { cancellationRefused, WITHDRAWN_BEFORE_PAYOUT, withdrawalRefused } from './confirmation-reasons';

/** The reasons a provider reads when payout answered its withdrawal, or refused the insurer's cancellation (ADR 22). */
describe('payout answers as confirmation reasons', () => {
  const refused = (over: Partial<PayoutWithdrawalDecidedV1 & { outcome: 'refused' }> = {}) =>
    PayoutWithdrawalDecidedV1.parse({
      outcome: 'refused',
      claimId: '0190a5e2-0000-7000-8000-000000000001',
      insurerId: 'insurer-1',
      providerId: 'clinic-1',
      confirmationId: '0190a5e2-0000-7000-8000-000000000002',
      withdrawalEventId: '0190a5e2-0000-7000-8000-000000000003',
      decidedAt: '2026-12-05T10:00:00Z',
      decision: 'partial',
      payable: '40.00',
      currency: 'EUR',
      payout: { payoutId: '0190a5e2-0000-7000-8000-000000000004', amount: '40.00', status: 'settled' },
      ...over,
    }) as PayoutWithdrawalDecidedV1 & { outcome: 'refused' };

  it('names the decision and the payout that stand', () => {
    expect(withdrawalRefused(refused())).toEqual({
      code: 'WITHDRAWAL_REFUSED',
      message:
        'Payout had already decided it (partial, 40.00 EUR, payout of 40.00 EUR settled) on this verification; ' +
        'the withdrawal was refused and it stands',
    });
    expect(cancellationRefused(refused({ decision: 'denied', payable: '0.00', payout: null })).message).toBe(
      'The insurer cancelled the claim after payout had decided it (denied, 0.00 EUR, nothing paid); ' +
        'the cancellation was refused',
    );
  });

  it('says a pended claim awaits its review', () => {
    expect(withdrawalRefused(refused({ decision: 'pended', payable: '0.00', payout: null })).message).toContain(
      'pended it for review',
    );
  });

  it('keeps WITHDRAWN the code of every withdrawal that stopped a confirmation from counting', () => {
    expect(WITHDRAWN_BEFORE_PAYOUT.code).toBe('WITHDRAWN');
  });

  it('refuses an answer whose decision payout never makes', () => {
    expect(() => refused({ decision: 'cancelled' as never })).toThrow();
  });
});
