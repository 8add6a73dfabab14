import { Settlement } from './payment-rail';
import { SimulatedBankRail } from './simulated-bank.rail';
import { backoffMs } from './payout-dispatcher.service';

const instruction = {
  payoutId: '018f0000-0000-7000-8000-000000000001',
  claimId: '018f0000-0000-7000-8000-000000000002',
  insurerId: 'insurer-1',
  payeeId: 'clinic-1',
  amount: '96.00',
  currency: 'EUR',
};

describe(SimulatedBankRail.name, () => {
  it('accepts at once and reports the settlement later, once, however often the payout is submitted', async () => {
    const rail = new SimulatedBankRail(5);
    const reports: Settlement[] = [];
    let settled!: () => void;
    const done = new Promise<void>((resolve) => (settled = resolve));
    const listener = async (s: Settlement) => {
      reports.push(s);
      settled();
    };
    const first = await rail.submit(instruction, listener);
    const again = await rail.submit(instruction, listener);
    expect(again).toEqual(first);
    expect(reports).toEqual([]);
    await done;
    await rail.close();
    expect(reports).toEqual([
      { payoutId: instruction.payoutId, reference: first.reference, settledAt: expect.any(Date) },
    ]);
  });

  it('reports nothing after it is closed', async () => {
    const rail = new SimulatedBankRail(5);
    const listener = jest.fn(async () => undefined);
    await rail.submit(instruction, listener);
    await rail.close();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(listener).not.toHaveBeenCalled();
  });
});

describe(backoffMs.name, () => {
  it('doubles from the base up to the maximum', () => {
    const o = { retryBaseMs: 500, retryMaxMs: 3000 };
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(n, o))).toEqual([500, 1000, 2000, 3000, 3000]);
  });
});
