/**
 * After the chaos run has drained: reconciles what the client was told against what the services hold, through the
 * APIs and their databases, and names each invariant that fails.
 *
 * - every accepted claim has exactly one terminal status, the one its owning services decided, and the one its plan
 *   meant (approved/partial → paid, denied, pended, rejected → verification-rejected); claim-intake's API agrees;
 * - no claim is paid twice (payouts, payouts.released.v1 events, ledger leaves), no (patient, provider, service,
 *   date) is paid by two claims, and the same claim sent again under a fresh Idempotency-Key was refused;
 * - each policy's accumulators equal what its adjudications paid, and its payouts add up to them;
 * - every event an outbox holds was published, and every one the ledger records is in it exactly once;
 *   `npm run audit:ledger` passes on the ledger's tables;
 * - the dead-letter queues hold only the poison that was injected.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { SERVICE_NAMES, ServiceName } from '@claimchain/config';
import { ALL_TOPICS, dlqTopicOf, EventCatalog, LEDGER_RECORDED_TOPICS, Topics } from '@claimchain/wire';
import { createKafka, listDeadLetters } from '@claimchain/messaging';
import { repoRoot } from '../../scripts/infra/paths';
import type { SentClaim } from '../e2e/load';
import { databaseUrlOf, Stack } from '../e2e/stack';
import type { Outcome } from '../e2e/workload';
import { InjectedPoison, POISON_HEADER } from './poison';

export const TERMINAL = ['paid', 'denied', 'pended', 'verification-rejected', 'payment-failed'] as const;
const EXPECTED: Record<Outcome, string> = {
  approved: 'paid',
  partial: 'paid',
  denied: 'denied',
  pended: 'pended',
  rejected: 'verification-rejected',
};
const API_CONCURRENCY = 8;

/** The provider's confirmation of an accepted claim was accepted (201, or 202: decided when the claim arrives). */
export const confirmed = (s: SentClaim) => Boolean(s.claimId) && (s.confirmStatus === 201 || s.confirmStatus === 202);
const EXAMPLES = 10;

export interface Invariant {
  name: string;
  ok: boolean;
  /** How many claims, rows or letters break it. */
  violations: number;
  examples: string[];
}

export interface Reconciliation {
  claims: {
    offered: number;
    accepted: number;
    /** Refused for good after the client's retries (the claim was never acknowledged: not lost). */
    refused: number;
    /** Stored by claim-intake but never acknowledged to the client (its answers were all lost). */
    unacknowledged: number;
    /**
     * Accepted, but no confirmation of theirs was accepted, even offered again after the load (the provider's API was
     * down past the client's patience): such a claim rightly waits, `submitted`, for one.
     */
    unconfirmed: number;
    confirmationsReoffered: number;
    byStatus: Record<string, number>;
    retriedSubmissions: number;
    retriedConfirmations: number;
    duplicateProbes: number;
  };
  lost: number;
  paidTwice: number;
  dlq: {
    letters: number;
    poisonLetters: number;
    otherLetters: number;
    byTopic: Record<string, number>;
    poisonInjected: number;
    poisonAbsorbed: number;
  };
  audit: { exitCode: number | null; output: string };
  invariants: Invariant[];
}

type Row = Record<string, string | number | boolean | null>;

async function query<T extends Row>(stack: Stack, service: ServiceName, sql: string, params: unknown[] = []) {
  const client = new Client({
    connectionString: databaseUrlOf(stack.databaseUrl, stack.databases[service]),
    connectionTimeoutMillis: 10_000,
    statement_timeout: 120_000,
  });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

function invariant(name: string, broken: string[]): Invariant {
  return { name, ok: broken.length === 0, violations: broken.length, examples: broken.slice(0, EXAMPLES) };
}

export async function reconcile(
  stack: Stack,
  sent: readonly SentClaim[],
  poison: readonly InjectedPoison[],
  tokens: Map<string, string>,
): Promise<Reconciliation> {
  const accepted = sent.filter((s) => s.claimId);
  const acceptedIds = new Set(accepted.map((s) => s.claimId!));

  const [intake, confirmations, adjudications, payouts] = await Promise.all([
    query<{ id: string; status: string }>(stack, 'claim-intake', `SELECT id::text, status FROM claims`),
    query<{ claim_id: string; outcome: string }>(
      stack,
      'treatment-verification',
      `SELECT claim_id::text, outcome FROM confirmations`,
    ),
    query<{ claim_id: string; decision: string }>(
      stack,
      'payout',
      `SELECT claim_id::text, decision FROM adjudications`,
    ),
    query<{ claim_id: string; n: number }>(
      stack,
      'payout',
      `SELECT claim_id::text, count(*)::int AS n FROM payouts GROUP BY claim_id`,
    ),
  ]);
  const status = new Map(intake.map((r) => [r.id, r.status]));
  const confirmation = new Map(confirmations.map((r) => [r.claim_id, r.outcome]));
  const decision = new Map(adjudications.map((r) => [r.claim_id, r.decision]));
  const payoutCount = new Map(payouts.map((r) => [r.claim_id, r.n]));

  // Lost: acknowledged and confirmed, and not at an end; or acknowledged and not there at all.
  const atEnd = (id: string) => TERMINAL.includes(status.get(id) as (typeof TERMINAL)[number]);
  const lost = accepted
    .filter((s) => (confirmed(s) ? !atEnd(s.claimId!) : !status.has(s.claimId!)))
    .map(
      (s) =>
        `${s.claimId} (${status.get(s.claimId!) ?? 'missing'}, planned ${s.outcome}, confirmation ` +
        `${s.confirmStatus ?? 'none'} after ${s.confirmAttempts ?? 0} attempt(s)${s.error ? `: ${s.error}` : ''})`,
    );
  const unconfirmed = accepted.filter((s) => !confirmed(s));

  // The owners' decisions, which claim-intake's status must show: exactly one of them per claim.
  const disagree: string[] = [];
  for (const s of accepted.filter(confirmed)) {
    const id = s.claimId!;
    const owners: string[] = [];
    if (confirmation.get(id) === 'rejected') owners.push('verification-rejected');
    const d = decision.get(id);
    if (d === 'denied' || d === 'pended') owners.push(d);
    if (payoutCount.has(id)) owners.push('paid');
    const shown = status.get(id);
    if (owners.length !== 1 || (owners[0] !== shown && !(owners[0] === 'paid' && shown === 'payment-failed')))
      disagree.push(`${id}: claim-intake ${shown ?? 'missing'}, owners [${owners.join(', ')}]`);
  }
  const unplanned = accepted
    .filter(confirmed)
    .filter((s) => status.has(s.claimId!) && TERMINAL.includes(status.get(s.claimId!) as (typeof TERMINAL)[number]))
    .filter((s) => EXPECTED[s.outcome] !== status.get(s.claimId!) && status.get(s.claimId!) !== 'payment-failed')
    .map((s) => `${s.claimId}: planned ${s.outcome}, is ${status.get(s.claimId!)}`);

  // Paid twice, three ways, and one service paid by two claims.
  const released = EventCatalog[Topics.PayoutsReleased].type;
  const [releasedTwice, leavesTwice, serviceTwice] = await Promise.all([
    query<{ s: string; n: number }>(
      stack,
      'payout',
      `SELECT payload->>'subject' AS s, count(*)::int AS n FROM outbox WHERE topic = $1
        GROUP BY 1 HAVING count(*) > 1`,
      [Topics.PayoutsReleased],
    ),
    query<{ s: string; n: number }>(
      stack,
      'ledger-anchoring',
      `SELECT subject AS s, count(*)::int AS n FROM ledger_leaves WHERE event_type = $1 GROUP BY 1 HAVING count(*) > 1`,
      [released],
    ),
    query<{ k: string; n: number }>(
      stack,
      'payout',
      `SELECT concat_ws(' ', c.patient_pseudonym, c.provider_id, l->>'code', l->>'servicedDate') AS k,
              count(DISTINCT a.claim_id)::int AS n
         FROM adjudications a JOIN claims c USING (claim_id) JOIN payouts p USING (claim_id),
              jsonb_array_elements(a.result->'lines') l
        WHERE (l->>'benefit')::numeric > 0
        GROUP BY 1 HAVING count(DISTINCT a.claim_id) > 1`,
    ),
  ]);
  const paidTwice = [
    ...[...payoutCount].filter(([, n]) => n > 1).map(([id, n]) => `${id}: ${n} payouts`),
    ...releasedTwice.map((r) => `${r.s}: ${r.n} payouts.released.v1 events`),
    ...leavesTwice.map((r) => `${r.s}: ${r.n} ${released} leaves in the ledger`),
  ];
  const duplicatesAccepted = sent.filter((s) => s.duplicateStatus === 202).map((s) => `${s.claimId} accepted twice`);

  // Accumulators against the adjudications that spent them, and the payouts against both.
  const [accumulators, spent, paidOnPolicies] = await Promise.all([
    query<{ k: string; benefit: string; deductible: string }>(
      stack,
      'payout',
      `SELECT policy_id || ' ' || plan_year_start AS k, benefit_paid::text AS benefit, deductible_met::text AS deductible
         FROM policy_accumulators`,
    ),
    query<{ k: string; benefit: string; deductible: string }>(
      stack,
      'payout',
      `SELECT a.policy_id || ' ' || (l->>'planYear') AS k, sum((l->>'benefit')::numeric)::text AS benefit,
              sum((l->>'deductible')::numeric)::text AS deductible
         FROM adjudications a, jsonb_array_elements(a.result->'lines') l
        WHERE a.policy_id IS NOT NULL AND a.decision <> 'pended' AND l->>'planYear' IS NOT NULL
        GROUP BY 1`,
    ),
    query<{ policy: string; payouts: string; accumulated: string }>(
      stack,
      'payout',
      `SELECT p.policy_id::text AS policy, coalesce(paid.total, 0)::text AS payouts, p.total::text AS accumulated
         FROM (SELECT policy_id, sum(benefit_paid) AS total FROM policy_accumulators GROUP BY 1) p
         LEFT JOIN (SELECT a.policy_id, sum(o.amount) AS total FROM payouts o JOIN adjudications a USING (claim_id)
                     WHERE a.policy_id IS NOT NULL GROUP BY 1) paid USING (policy_id)`,
    ),
  ]);
  const spentBy = new Map(spent.map((r) => [r.k, r]));
  const accumulatorsWrong = [
    ...accumulators
      .filter((a) => {
        const s = spentBy.get(a.k);
        return Number(a.benefit) !== Number(s?.benefit ?? 0) || Number(a.deductible) !== Number(s?.deductible ?? 0);
      })
      .map((a) => `${a.k}: benefit_paid ${a.benefit}, adjudicated ${spentBy.get(a.k)?.benefit ?? 0}`),
    ...spent
      .filter((s) => Number(s.benefit) > 0 && !accumulators.some((a) => a.k === s.k))
      .map((s) => `${s.k}: adjudicated ${s.benefit}, no accumulator`),
    ...paidOnPolicies
      .filter((p) => Number(p.payouts) !== Number(p.accumulated))
      .map((p) => `policy ${p.policy}: payouts ${p.payouts}, accumulated ${p.accumulated}`),
  ];

  // Outboxes drained, and the ledger holds each recorded event once.
  const outboxes = await Promise.all(
    SERVICE_NAMES.map(async (service) => ({
      service,
      rows: await query<{ id: string; published: boolean; topic: string }>(
        stack,
        service,
        `SELECT payload->>'id' AS id, published_at IS NOT NULL AS published, topic FROM outbox`,
      ),
    })),
  );
  const leaves = new Set(
    (await query<{ id: string }>(stack, 'ledger-anchoring', `SELECT event_id::text AS id FROM ledger_leaves`)).map(
      (r) => r.id,
    ),
  );
  const recorded = new Set<string>(LEDGER_RECORDED_TOPICS);
  const unpublished: string[] = [];
  const unrecorded: string[] = [];
  for (const { service, rows } of outboxes) {
    for (const r of rows) {
      if (!r.published) unpublished.push(`${service} ${r.topic} ${r.id}`);
      if (recorded.has(r.topic) && !leaves.has(r.id)) unrecorded.push(`${service} ${r.topic} ${r.id}`);
    }
  }

  const apiDisagrees = await compareWithApi(stack, accepted, status, tokens);
  const dlq = await deadLetters(stack, poison);
  const audit = await auditLedger(stack);

  const byStatus: Record<string, number> = {};
  for (const s of accepted) {
    const st = status.get(s.claimId!) ?? 'missing';
    byStatus[st] = (byStatus[st] ?? 0) + 1;
  }
  const invariants = [
    invariant('every accepted and confirmed claim reached a terminal status (none lost)', lost),
    invariant('claim-intake shows the one decision its owning services made', disagree),
    invariant('each claim ended as its plan meant', unplanned),
    invariant("claim-intake's API shows what its database holds", apiDisagrees),
    invariant('no claim paid twice (payouts, events, ledger)', paidTwice),
    invariant(
      'no (patient, provider, service, date) paid by two claims',
      serviceTwice.map((r) => `${r.k}: ${r.n}`),
    ),
    invariant('a claim sent again under a fresh Idempotency-Key was refused', duplicatesAccepted),
    invariant("accumulators equal the policy's adjudicated benefit and payouts", accumulatorsWrong),
    invariant('every outbox row was published', unpublished),
    invariant('the ledger records every recorded event', unrecorded),
    invariant('npm run audit:ledger passes', audit.exitCode === 0 ? [] : [audit.output]),
    invariant('the DLQs hold only injected poison', dlq.others),
    invariant('every malformed poison message was dead-lettered', dlq.vanished),
  ];
  return {
    claims: {
      offered: sent.length,
      accepted: accepted.length,
      refused: sent.length - accepted.length,
      unacknowledged: intake.filter((r) => !acceptedIds.has(r.id)).length,
      unconfirmed: unconfirmed.length,
      confirmationsReoffered: sent.filter((s) => s.confirmReoffered).length,
      byStatus,
      retriedSubmissions: sent.filter((s) => (s.claimAttempts ?? 1) > 1).length,
      retriedConfirmations: sent.filter((s) => (s.confirmAttempts ?? 1) > 1).length,
      duplicateProbes: sent.filter((s) => s.duplicateStatus !== undefined).length,
    },
    lost: lost.length,
    paidTwice: paidTwice.length + serviceTwice.length + duplicatesAccepted.length,
    dlq: dlq.summary,
    audit,
    invariants,
  };
}

async function compareWithApi(
  stack: Stack,
  accepted: readonly SentClaim[],
  status: Map<string, string>,
  tokens: Map<string, string>,
): Promise<string[]> {
  const wrong: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < accepted.length) {
      const s = accepted[next++];
      try {
        const res = await fetch(stack.url('claim-intake', `/v1/claims/${s.claimId}`), {
          headers: { authorization: `Bearer ${tokens.get(s.insurer)}` },
          signal: AbortSignal.timeout(10_000),
        });
        const body = (await res.json()) as { status?: string };
        if (res.status !== 200 || body.status !== status.get(s.claimId!))
          wrong.push(`${s.claimId}: API ${res.status} ${body.status}, database ${status.get(s.claimId!)}`);
      } catch (error) {
        wrong.push(`${s.claimId}: ${(error as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: API_CONCURRENCY }, worker));
  return wrong;
}

async function deadLetters(stack: Stack, poison: readonly InjectedPoison[]) {
  const kafka = createKafka('claimchain-chaos-reconcile', stack.brokers);
  const byTopic: Record<string, number> = {};
  const others: string[] = [];
  const lettersOf = new Map<string, number>();
  let letters = 0;
  for (const topic of ALL_TOPICS) {
    const found = await listDeadLetters(kafka, dlqTopicOf(topic));
    if (found.length > 0) byTopic[topic] = found.length;
    letters += found.length;
    for (const l of found) {
      const id = l.headers[POISON_HEADER];
      if (id) lettersOf.set(id, (lettersOf.get(id) ?? 0) + 1);
      else
        others.push(
          `${l.dlqTopic}@${l.offset} key=${l.key} (${l.headers['x-dlq-reason']}, ${l.headers['x-dlq-attempts']} ` +
            `attempt(s)): ${l.headers['x-dlq-error']}`,
        );
    }
  }
  const vanished = poison
    .filter((p) => !p.absorbed && !lettersOf.has(p.id))
    .map((p) => `${p.kind} on ${p.topic} (${p.id})`);
  // A duplicate that was dead-lettered is no worse than one absorbed, but say so.
  const absorbed = poison.filter((p) => p.absorbed && !lettersOf.has(p.id)).length;
  return {
    summary: {
      letters,
      poisonLetters: letters - others.length,
      otherLetters: others.length,
      byTopic,
      poisonInjected: poison.length,
      poisonAbsorbed: absorbed,
    },
    others,
    vanished,
  };
}

const execFileAsync = promisify(execFile);

/** `npm run audit:ledger` as an operator runs it, on the chaos run's ledger database. */
async function auditLedger(stack: Stack): Promise<{ exitCode: number | null; output: string }> {
  try {
    const { stdout } = await execFileAsync(
      process.execPath,
      [
        join(repoRoot(), 'dist', 'scripts', 'audit-ledger.js'),
        '--database',
        databaseUrlOf(stack.databaseUrl, stack.databases['ledger-anchoring']),
        '--key',
        stack.verifierKey,
      ],
      {
        cwd: repoRoot(),
        // The log's origin is the key's name.
        env: { ...process.env, LEDGER_ORIGIN: stack.verifierKey.split('+')[0] },
        timeout: 600_000,
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    return { exitCode: 0, output: stdout.trim() };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string; message: string };
    return {
      exitCode: typeof e.code === 'number' ? e.code : null,
      output: `${e.stdout ?? ''}${e.stderr ?? e.message}`.trim(),
    };
  }
}
