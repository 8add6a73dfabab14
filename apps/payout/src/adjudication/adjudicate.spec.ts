import { ClaimSubmittedV1 } from '@claimchain/contracts';
import { DEMO_CONTRACT } from '../contracts/contract.definition';
import { adjudicate } from './adjudicate';

const CPT = 'http://www.ama-assn.org/go/cpt';
const item = (sequence: number, code: string, net: string): ClaimSubmittedV1['items'][number] => ({
  sequence,
  system: CPT,
  code,
  servicedDate: '2026-11-20',
  quantity: 1,
  unitPrice: net,
  net,
});

describe(adjudicate.name, () => {
  it('approves covered lines, paying the net less 20% coinsurance', async () => {
    const result = await adjudicate(DEMO_CONTRACT, [item(1, '99213', '120.00'), item(2, '85025', '30.50')]);
    expect(result.decision).toBe('approved');
    expect(result.payable).toBe('120.40');
    expect(result.submitted).toBe('150.50');
    expect(result.lines.map((l) => [l.benefit, l.reasons])).toEqual([
      ['96.00', ['PR-2']],
      ['24.40', ['PR-2']],
    ]);
  });

  it('rounds each line to cents (decimal arithmetic, no float drift)', async () => {
    // 80% of 0.05 is 0.04 exactly; 80% of 10.01 is 8.008 → 8.01; 80% of 0.55 is 0.44.
    const result = await adjudicate(DEMO_CONTRACT, [item(1, 'A', '0.05'), item(2, 'B', '10.01'), item(3, 'C', '0.55')]);
    expect(result.lines.map((l) => l.benefit)).toEqual(['0.04', '8.01', '0.44']);
    expect(result.payable).toBe('8.49');
  });

  it('denies an excluded code with CO-204 and makes the claim partial', async () => {
    const result = await adjudicate(DEMO_CONTRACT, [item(1, '99213', '100.00'), item(2, '15780', '900.00')]);
    expect(result.decision).toBe('partial');
    expect(result.lines[1]).toMatchObject({ benefit: '0.00', reasons: ['CO-204'] });
    expect(result.payable).toBe('80.00');
  });

  it('denies a claim none of whose lines are payable', async () => {
    const result = await adjudicate(DEMO_CONTRACT, [item(1, '15780', '900.00')]);
    expect(result.decision).toBe('denied');
    expect(result.payable).toBe('0.00');
  });

  it('denies as not covered (CO-96) a line no rule pays', async () => {
    const noPayRule = { ...DEMO_CONTRACT, rules: DEMO_CONTRACT.rules.filter((r) => r.name === 'excluded-service') };
    const result = await adjudicate(noPayRule, [item(1, '99213', '50.00')]);
    expect(result.lines[0].reasons).toEqual(['CO-96']);
    expect(result.decision).toBe('denied');
  });

  it('is deterministic: the same inputs give byte-identical results', async () => {
    const items = [item(1, '99213', '120.00'), item(2, '15780', '10.00')];
    const a = JSON.stringify(await adjudicate(DEMO_CONTRACT, items));
    const b = JSON.stringify(await adjudicate(DEMO_CONTRACT, items));
    expect(a).toBe(b);
  });
});
