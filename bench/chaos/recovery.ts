/**
 * Time to recover after a fault, from the services' own records: from the moment the fault ended (the new process
 * spawned, SIGCONT, the broker or Postgres back) to the first event each affected service took in afterwards (its
 * inbox `processed_at`, the start of the transaction that applied it), and to the first payout released afterwards
 * (payments flowing). A service kill also records when its /health/pipeline answered 200 again.
 */
import { Client } from 'pg';
import { ServiceName } from '@claimchain/config';
import { sleep } from '../../scripts/infra/timing';
import { databaseUrlOf, Stack } from '../e2e/stack';
import { affectedServices, InjectedFault } from './faults';

const GIVE_UP_MS = 180_000;
const POLL_MS = 500;

export interface Recovery {
  /** ms from the fault's end to the first event each affected service processed after it; null: none in time. */
  firstEvent: Partial<Record<ServiceName, number | null>>;
  /** The slowest of those: the fault's recovery time (null if one never recovered in time). */
  recoveredMs: number | null;
  /** ms from the fault's end to the first payout released after it. */
  paymentsMs: number | null;
  /** kill and pause: ms from the fault's end to the service's /health/pipeline answering 200. */
  readyMs?: number | null;
}

/** Polls until every affected service has processed an event after the fault ended, or gives up. */
export async function measureRecovery(stack: Stack, fault: InjectedFault): Promise<Recovery> {
  const since = new Date(fault.endedAt);
  const deadline = fault.endedAt + GIVE_UP_MS;
  const services = affectedServices(fault);
  const firstEvent: Partial<Record<ServiceName, number | null>> = {};
  let paymentsMs: number | null = null;
  let readyMs: number | null | undefined = fault.service ? null : undefined;
  const ms = (d: Date | null) => (d ? Math.max(0, d.getTime() - fault.endedAt) : null);
  while (Date.now() < deadline) {
    for (const service of services) {
      if (firstEvent[service] != null) continue;
      const row = await first(
        stack,
        service,
        `SELECT min(processed_at) AS t FROM inbox WHERE processed_at > $1`,
        since,
      );
      firstEvent[service] = ms(row);
    }
    if (paymentsMs === null)
      paymentsMs = ms(
        await first(stack, 'payout', `SELECT min(released_at) AS t FROM payouts WHERE released_at > $1`, since),
      );
    if (readyMs === null && fault.service && (await answers200(stack.url(fault.service, '/health/pipeline'))))
      readyMs = Date.now() - fault.endedAt;
    if (services.every((s) => firstEvent[s] != null) && paymentsMs !== null && readyMs !== null) break;
    await sleep(POLL_MS);
  }
  const times = services.map((s) => firstEvent[s] ?? null);
  return {
    firstEvent,
    recoveredMs: times.some((t) => t === null) ? null : Math.max(0, ...(times as number[])),
    paymentsMs,
    ...(readyMs !== undefined && { readyMs }),
  };
}

/** One value of one row, or null (also while the database is away: the poll tries again). */
async function first(stack: Stack, service: ServiceName, sql: string, since: Date): Promise<Date | null> {
  const client = new Client({
    connectionString: databaseUrlOf(stack.databaseUrl, stack.databases[service]),
    connectionTimeoutMillis: 2_000,
    statement_timeout: 5_000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ t: Date | null }>(sql, [since]);
    return rows[0]?.t ?? null;
  } catch {
    return null;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function answers200(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(1_000) })).status === 200;
  } catch {
    return false;
  }
}
