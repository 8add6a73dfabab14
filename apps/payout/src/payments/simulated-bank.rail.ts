import { Logger } from '@nestjs/common';
import { PaymentInstruction, PaymentRail, SettlementListener } from './payment-rail';

/**
 * A bank that settles asynchronously: it accepts an instruction at once and reports it settled `settleAfterMs`
 * later. Submitting the same payout twice returns the same reference and settles once.
 */
export class SimulatedBankRail implements PaymentRail {
  readonly name = 'simulated-bank';
  private readonly logger = new Logger(SimulatedBankRail.name);
  private readonly accepted = new Map<string, string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly reporting = new Set<Promise<void>>();

  constructor(private readonly settleAfterMs = 100) {}

  async submit(instruction: PaymentInstruction, onSettled: SettlementListener): Promise<{ reference: string }> {
    const known = this.accepted.get(instruction.payoutId);
    if (known) return { reference: known };
    const reference = `sim-${instruction.payoutId}`;
    this.accepted.set(instruction.payoutId, reference);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const report = onSettled({ payoutId: instruction.payoutId, reference, settledAt: new Date() })
        .catch((error: unknown) => this.logger.error(`settlement report for ${reference} failed: ${String(error)}`))
        .finally(() => this.reporting.delete(report));
      this.reporting.add(report);
    }, this.settleAfterMs);
    this.timers.add(timer);
    return { reference };
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.all([...this.reporting]);
  }
}
