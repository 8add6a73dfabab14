import { v4 as uuidv4 } from 'uuid';
import { ServiceName, SERVICE_NAMES } from '@claimchain/config';
import { Topics } from '@claimchain/wire';
import { createKafka } from '@claimchain/messaging';
import { MetricSample, parsePrometheusText, sampleSum, waitFor } from '@claimchain/testing';
import { fhirClaim, fhirClaimTreatments, newKey, RunningSystem, startSystem } from './system';

type Scrape = Record<ServiceName, MetricSample[]>;

/**
 * What ops see on each service's metrics port while one claim goes through the four services on the real broker
 * and Postgres, and a poison message is dead-lettered: the counters move by exactly what happened, the gauges
 * settle back, and no label names a claim or a tenant. Each figure is taken as a difference from a scrape made
 * once the fresh consumer groups had caught up with what earlier runs left on the topics.
 */
describe('metrics, as Prometheus scrapes them', () => {
  let system: RunningSystem;
  let insurer: { authorization: string };
  let provider: { authorization: string };
  let before: Scrape;
  let after: Scrape;
  let claimId: string;

  const scrape = async (service: ServiceName): Promise<MetricSample[]> => {
    const res = await fetch(system.metricsUrl(service));
    expect(res.status).toBe(200);
    return parsePrometheusText(await res.text());
  };
  const scrapeAll = async (): Promise<Scrape> =>
    Object.fromEntries(await Promise.all(SERVICE_NAMES.map(async (s) => [s, await scrape(s)]))) as Scrape;
  /** How much a counter moved between the two scrapes. */
  const delta = (service: ServiceName, name: string, labels: Record<string, string> = {}) =>
    sampleSum(after[service], name, labels) - sampleSum(before[service], name, labels);
  const consumed = (service: ServiceName, topic: string, outcome: string) =>
    delta(service, 'claimchain_events_consumed_total', { topic, outcome });

  /** Every consumer has committed everything on its topics, and no outbox holds an unsent row. */
  const settled = async (): Promise<Scrape | undefined> => {
    const now = await scrapeAll();
    const quiet = SERVICE_NAMES.every((s) => {
      const lags = now[s].filter((m) => m.name === 'claimchain_consumer_lag_messages');
      return (
        lags.length > 0 &&
        lags.every((m) => m.value === 0) &&
        sampleSum(now[s], 'claimchain_outbox_unsent_rows') === 0 &&
        sampleSum(now[s], 'claimchain_ledger_uncheckpointed_age_seconds') === 0
      );
    });
    return quiet ? now : undefined;
  };

  beforeAll(async () => {
    system = await startSystem();
    insurer = await system.as('insurer', 'insurer-e2e');
    provider = await system.as('provider', 'clinic-e2e');
    before = await waitFor('the consumers to catch up with the topics', settled, {
      timeoutMs: 90_000,
      intervalMs: 500,
    });

    // One claim, submitted and confirmed, paid.
    const submitted = await fetch(system.url('claim-intake', '/v1/claims'), {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', ...insurer, ...newKey() },
      body: JSON.stringify(fhirClaim(`p-${uuidv4()}`)),
    });
    expect(submitted.status).toBe(202);
    claimId = ((await submitted.json()) as { id: string }).id;
    const confirmed = await fetch(system.url('treatment-verification', '/v1/confirmations'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...provider, ...newKey() },
      body: JSON.stringify({
        claimId,
        performed: fhirClaimTreatments(),
      }),
    });
    expect([201, 202]).toContain(confirmed.status);
    await waitFor(
      'the claim to be paid',
      async () => {
        const res = await fetch(system.url('claim-intake', `/v1/claims/${claimId}`), { headers: insurer });
        return ((await res.json()) as { status: string }).status === 'paid';
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );

    // A poison message on claims.submitted.v1: not JSON, so every service consuming the topic dead-letters it.
    const kafka = createKafka('e2e-metrics-poison', process.env.KAFKA_BROKERS!.split(','));
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: Topics.ClaimsSubmitted, messages: [{ key: uuidv4(), value: 'not an event' }] });
    await producer.disconnect();

    // The lag gauge is sampled at most every few seconds, so "no lag" alone can be a sample from before the last
    // events: wait for the last effects to be counted too (once each; the tests check it was exactly once).
    const seen = (now: Scrape, service: ServiceName, topic: string, outcome: string) =>
      sampleSum(now[service], 'claimchain_events_consumed_total', { topic, outcome }) -
        sampleSum(before[service], 'claimchain_events_consumed_total', { topic, outcome }) >=
      1;
    after = await waitFor(
      'the claim and the poison message to have gone through',
      async () => {
        const now = await settled();
        const through =
          now &&
          (['treatment-verification', 'ledger-anchoring', 'payout'] as const).every((s) =>
            seen(now, s, Topics.ClaimsSubmitted, 'dead_lettered'),
          ) &&
          // The claim's five events (submitted … settled) recorded and covered by a signed checkpoint.
          sampleSum(now['ledger-anchoring'], 'claimchain_ledger_leaves') -
            sampleSum(before['ledger-anchoring'], 'claimchain_ledger_leaves') >=
            5 &&
          sampleSum(now['ledger-anchoring'], 'claimchain_ledger_checkpoint_leaves') ===
            sampleSum(now['ledger-anchoring'], 'claimchain_ledger_leaves') &&
          seen(now, 'claim-intake', Topics.PayoutsSettled, 'handled');
        return through ? now : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
  }, 300_000);

  afterAll(async () => {
    await system?.stop();
  });

  it('counts HTTP requests by route pattern, method and status class, with their latency', () => {
    const labels = { method: 'POST', route: '/v1/claims', status_class: '2xx' };
    expect(delta('claim-intake', 'claimchain_http_requests_total', labels)).toBe(1);
    expect(
      delta('claim-intake', 'claimchain_http_request_duration_seconds_count', { method: 'POST', route: '/v1/claims' }),
    ).toBe(1);
    const polled = { method: 'GET', route: '/v1/claims/:id', status_class: '2xx' };
    expect(delta('claim-intake', 'claimchain_http_requests_total', polled)).toBeGreaterThanOrEqual(1);
    expect(
      delta('treatment-verification', 'claimchain_http_requests_total', {
        method: 'POST',
        route: '/v1/confirmations',
        status_class: '2xx',
      }),
    ).toBe(1);
  });

  it('counts each event handled once per consuming service, by topic', () => {
    expect(consumed('treatment-verification', Topics.ClaimsSubmitted, 'handled')).toBe(1);
    for (const topic of [
      Topics.ClaimsSubmitted,
      Topics.TreatmentsVerified,
      Topics.ClaimsAdjudicated,
      Topics.PayoutsReleased,
      Topics.PayoutsSettled,
    ]) {
      expect({ topic, handled: consumed('ledger-anchoring', topic, 'handled') }).toEqual({ topic, handled: 1 });
    }
    expect(consumed('payout', Topics.LedgerAnchored, 'handled')).toBeGreaterThanOrEqual(1);
    expect(consumed('claim-intake', Topics.PayoutsSettled, 'handled')).toBe(1);
  });

  it('counts the poison message as dead-lettered by every service that consumes its topic, and nothing else', () => {
    for (const service of ['treatment-verification', 'ledger-anchoring', 'payout'] as const) {
      expect({ service, dead: consumed(service, Topics.ClaimsSubmitted, 'dead_lettered') }).toEqual({
        service,
        dead: 1,
      });
    }
    for (const service of SERVICE_NAMES) {
      expect({
        service,
        dead: delta(service, 'claimchain_events_consumed_total', { outcome: 'dead_lettered' }),
      }).toEqual({ service, dead: service === 'claim-intake' ? 0 : 1 });
    }
  });

  it('counts the adjudication by decision and the payout by status and rail, with no payment failure', () => {
    expect(delta('payout', 'claimchain_adjudications_total', { decision: 'approved' })).toBe(1);
    expect(delta('payout', 'claimchain_adjudications_total')).toBe(1);
    expect(delta('payout', 'claimchain_payouts_total', { status: 'released' })).toBe(1);
    expect(delta('payout', 'claimchain_payouts_total', { status: 'settled', rail: 'simulated-bank' })).toBe(1);
    expect(delta('payout', 'claimchain_payouts_total', { status: 'failed' })).toBe(0);
    expect(delta('payout', 'claimchain_payment_failures_total')).toBe(0);
    expect(sampleSum(after.payout, 'claimchain_ledger_circuit_open')).toBe(0);
  });

  it('measures the claim from submission to settled payment, as the insurer waits for it', () => {
    expect(delta('claim-intake', 'claimchain_claim_submit_to_paid_seconds_count')).toBe(1);
    const seconds = delta('claim-intake', 'claimchain_claim_submit_to_paid_seconds_sum');
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThan(120);
  });

  it("shows the ledger's growth covered by a signed checkpoint, and what appends and checkpoints took", () => {
    const leaves = sampleSum(after['ledger-anchoring'], 'claimchain_ledger_leaves');
    expect(delta('ledger-anchoring', 'claimchain_ledger_leaves')).toBeGreaterThanOrEqual(5);
    expect(sampleSum(after['ledger-anchoring'], 'claimchain_ledger_checkpoint_leaves')).toBe(leaves);
    expect(delta('ledger-anchoring', 'claimchain_ledger_append_duration_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(delta('ledger-anchoring', 'claimchain_ledger_checkpoint_duration_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(sampleSum(after['ledger-anchoring'], 'claimchain_ledger_checkpoint_age_seconds')).toBeGreaterThanOrEqual(0);
  });

  it("reports every service's consumer lag per partition, outbox back to empty, pool and event loop", () => {
    for (const service of SERVICE_NAMES) {
      const lag = after[service].filter((m) => m.name === 'claimchain_consumer_lag_messages');
      expect(lag.map((m) => m.labels.partition).sort()).toEqual(expect.arrayContaining(['0', '1', '2']));
      expect({ service, unsent: sampleSum(after[service], 'claimchain_outbox_unsent_rows') }).toEqual({
        service,
        unsent: 0,
      });
      expect(sampleSum(after[service], 'claimchain_outbox_oldest_unsent_age_seconds')).toBe(0);
      expect(sampleSum(after[service], 'claimchain_db_pool_max_connections')).toBeGreaterThan(0);
      expect(after[service].some((m) => m.name === 'nodejs_eventloop_lag_seconds')).toBe(true);
      expect(after[service].every((m) => m.labels.service === service)).toBe(true);
    }
    const lagOf = (topic: string) =>
      after['treatment-verification'].filter(
        (m) => m.name === 'claimchain_consumer_lag_messages' && m.labels.topic === topic,
      );
    expect(lagOf(Topics.ClaimsSubmitted)).toHaveLength(3);
  });

  it('labels nothing with a claim id or a tenant', () => {
    const values = SERVICE_NAMES.flatMap((s) => after[s].flatMap((m) => Object.values(m.labels)));
    expect(values.length).toBeGreaterThan(100);
    for (const forbidden of [claimId, 'insurer-e2e', 'clinic-e2e']) {
      expect(values.filter((v) => v.includes(forbidden))).toEqual([]);
    }
    // Route labels are patterns: no label value carries a UUID at all.
    expect(values.filter((v) => /[0-9a-f]{8}-[0-9a-f]{4}-/i.test(v))).toEqual([]);
  });

  it('serves /metrics only on the metrics port: the public port answers 404, the metrics port serves no API', async () => {
    for (const service of SERVICE_NAMES) {
      const publicMetrics = await fetch(system.url(service, '/metrics'));
      expect({ service, status: publicMetrics.status }).toEqual({ service, status: 404 });
      expect(new URL(system.metricsUrl(service)).port).not.toBe(new URL(system.url(service, '/')).port);
      const api = await fetch(new URL('/health/live', system.metricsUrl(service)));
      expect({ service, status: api.status }).toEqual({ service, status: 404 });
    }
  });
});
