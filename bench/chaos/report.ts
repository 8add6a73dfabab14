/**
 * The chaos run's report: report.json (everything, per fault) and summary.md (what docs/reliability.md quotes).
 */
import { formatMs, percentiles } from '../e2e/stats';
import { FAULT_KINDS, InjectedFault } from './faults';
import { InjectedPoison } from './poison';
import { Reconciliation } from './reconcile';
import { Recovery } from './recovery';

export interface ChaosReport {
  startedAt: string;
  commit?: string;
  options: Record<string, unknown>;
  /** Seconds of load, and of the drain after it. */
  loadSeconds: number;
  drainSeconds: number;
  faults: (InjectedFault & { recovery?: Recovery })[];
  /** Service deaths the run did not cause (the supervisor restarted them too). */
  unplannedExits: string[];
  skippedKinds: Record<string, string>;
  poison: InjectedPoison[];
  reconciliation: Reconciliation;
  ok: boolean;
}

const toJsonValue = (_key: string, value: unknown) => (value === Infinity ? 'Infinity' : value);

export function toJson(report: ChaosReport): string {
  return JSON.stringify(report, toJsonValue, 2) + '\n';
}

export function summaryMarkdown(r: ChaosReport): string {
  const c = r.reconciliation.claims;
  const lines: string[] = [];
  lines.push(`# Chaos run ${r.startedAt}${r.commit ? ` (${r.commit})` : ''}: ${r.ok ? 'PASSED' : 'FAILED'}`, '');
  lines.push(
    `Options: ${Object.entries(r.options)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(k === 'pgCluster' ? '/' : ',') : String(v)}`)
      .join(' ')}. Load ${r.loadSeconds.toFixed(0)} s, drain ${r.drainSeconds.toFixed(0)} s.`,
    '',
  );
  lines.push('| claims | count |', '| --- | ---: |');
  lines.push(`| offered | ${c.offered} |`, `| accepted (202) | ${c.accepted} |`);
  lines.push(
    `| refused for good after retries | ${c.refused} |`,
    `| stored but never acknowledged | ${c.unacknowledged} |`,
  );
  for (const [status, n] of Object.entries(c.byStatus).sort()) lines.push(`| accepted, now ${status} | ${n} |`);
  lines.push(`| submissions retried (same Idempotency-Key) | ${c.retriedSubmissions} |`);
  lines.push(`| confirmations retried | ${c.retriedConfirmations} |`);
  lines.push(`| sent again under a fresh key (must be refused) | ${c.duplicateProbes} |`);
  lines.push(
    `| **lost** | **${r.reconciliation.lost}** |`,
    `| **paid twice** | **${r.reconciliation.paidTwice}** |`,
    '',
  );

  lines.push('| fault | injected | recovery p50 | recovery max | not recovered | payments resumed max | ready max |');
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const kind of FAULT_KINDS) {
    const of = r.faults.filter((f) => f.kind === kind);
    if (of.length === 0) continue;
    const measured = of.filter((f) => f.recovery);
    const recovered = measured.filter((f) => f.recovery!.recoveredMs !== null).map((f) => f.recovery!.recoveredMs!);
    const stats = percentiles(recovered);
    const payments = measured.filter((f) => f.recovery!.paymentsMs !== null).map((f) => f.recovery!.paymentsMs!);
    const ready = measured.filter((f) => f.recovery!.readyMs != null).map((f) => f.recovery!.readyMs!);
    lines.push(
      `| ${kind} | ${of.length}${of.some((f) => f.error) ? ` (${of.filter((f) => f.error).length} failed)` : ''} | ` +
        `${kind === 'poison' ? '–' : formatMs(stats.p50)} | ${kind === 'poison' ? '–' : formatMs(stats.max)} | ` +
        `${measured.length - recovered.length} | ${formatMs(payments.length ? Math.max(...payments) : null)} | ` +
        `${formatMs(ready.length ? Math.max(...ready) : null)} |`,
    );
  }
  lines.push(
    '',
    'Recovery: from the fault’s end (new process spawned, SIGCONT, broker or Postgres back) to the first event ' +
      'every affected service processed after it (its inbox). Payments resumed: to the first payout released after ' +
      'it. Ready: to the service’s /health/pipeline answering 200.',
    '',
  );
  for (const [kind, why] of Object.entries(r.skippedKinds)) lines.push(`Skipped ${kind}: ${why}`, '');
  if (r.unplannedExits.length > 0) lines.push(`Unplanned exits (restarted): ${r.unplannedExits.join('; ')}`, '');

  const d = r.reconciliation.dlq;
  lines.push(
    `Poison: ${d.poisonInjected} injected (${d.poisonAbsorbed} duplicates absorbed by the inboxes); dead letters: ` +
      `${d.letters} (${d.poisonLetters} of injected poison, ${d.otherLetters} other)` +
      (Object.keys(d.byTopic).length
        ? `; by topic: ${Object.entries(d.byTopic)
            .map(([t, n]) => `${t} ${n}`)
            .join(', ')}`
        : '') +
      '.',
    '',
  );
  lines.push(`Ledger audit: ${r.reconciliation.audit.output.split('\n').slice(-1)[0]}`, '');
  lines.push('| invariant | result |', '| --- | --- |');
  for (const inv of r.reconciliation.invariants) {
    lines.push(`| ${inv.name} | ${inv.ok ? 'ok' : `**${inv.violations} violation(s)**`} |`);
  }
  for (const inv of r.reconciliation.invariants.filter((i) => !i.ok)) {
    lines.push('', `${inv.name}, e.g.:`, '', ...inv.examples.map((e) => `- ${e.replace(/\n/g, ' ')}`));
  }
  lines.push(
    '',
    '| # | at | fault | took | recovery | payments | ready | note |',
    '| ---: | ---: | --- | ---: | ---: | ---: | ---: | --- |',
  );
  const t0 = r.faults[0]?.injectedAt ?? 0;
  for (const f of r.faults) {
    lines.push(
      `| ${f.n} | ${((f.injectedAt - t0) / 1000).toFixed(1)} s | ${f.kind}${f.service ? ` ${f.service}` : ''} | ` +
        `${formatMs(f.endedAt - f.injectedAt)} | ${formatMs(f.recovery?.recoveredMs)} | ` +
        `${formatMs(f.recovery?.paymentsMs)} | ${formatMs(f.recovery?.readyMs)} | ${f.error ? `**${f.error}**` : f.note} |`,
    );
  }
  return lines.join('\n') + '\n';
}
