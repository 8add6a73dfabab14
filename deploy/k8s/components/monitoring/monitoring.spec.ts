/**
 * The monitoring component against the code it watches: every metric an alert or a dashboard panel queries is one
 * the services register (read from the metric classes themselves, so renaming a metric fails here, not on a silent
 * dashboard), every alert is actionable (severity, summary, a runbook section that exists), and each service has a
 * ServiceMonitor on the Service port the base names `metrics`.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Kafka } from 'kafkajs';
import { Histogram } from 'prom-client';
import { parse, parseAllDocuments } from 'yaml';
import { DataSource } from 'typeorm';
import { SERVICE_NAMES } from '@claimchain/config';
import { HttpMetrics } from '@claimchain/http';
import { ConsumerLagSampler, EventMetrics, registerOutboxMetrics } from '@claimchain/messaging';
import { MetricsRegistry, registerDatabasePoolMetrics } from '@claimchain/observability';
import { LedgerMetrics } from '../../../../apps/ledger-anchoring/src/log/ledger.metrics';
import { PayoutMetrics } from '../../../../apps/payout/src/payout.metrics';
import { ClaimFlowMetrics } from '../../../../apps/claim-intake/src/claims/track-status/claim-flow.metrics';

const ROOT = resolve(__dirname, '../../../..');
const HERE = __dirname;

interface Rule {
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface Doc {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  data?: Record<string, string>;
  spec?: {
    groups?: { name: string; rules: Rule[] }[];
    selector?: { matchLabels?: Record<string, string> };
    endpoints?: { port?: string; path?: string }[];
    ports?: { name?: string; port: number; targetPort: string | number }[];
  };
}
interface Panel {
  title: string;
  targets?: { expr: string }[];
}

const docsOf = (file: string): Doc[] =>
  parseAllDocuments(readFileSync(join(HERE, file), 'utf8')).map((d) => d.toJS() as Doc);
const resources = (parse(readFileSync(join(HERE, 'kustomization.yaml'), 'utf8')) as { resources: string[] }).resources;
const all = resources.flatMap(docsOf);
const rules = all.filter((d) => d.kind === 'PrometheusRule').flatMap((d) => d.spec!.groups!.flatMap((g) => g.rules));
const dashboardMap = all.find((d) => d.kind === 'ConfigMap')!;
const panels = (JSON.parse(Object.values(dashboardMap.data!)[0]) as { panels: Panel[] }).panels;

/** What the services register: one registry with every metric class of every service on it. */
function registeredMetrics(): { names: Set<string>; histograms: Set<string> } {
  const registry = new MetricsRegistry('spec');
  // Never connected: the metrics only read them when scraped.
  const dataSource = new DataSource({ type: 'postgres' });
  new HttpMetrics(registry);
  new EventMetrics(registry);
  registerOutboxMetrics(registry, dataSource);
  new ConsumerLagSampler(registry, new Kafka({ brokers: ['unused:9092'] }), 'spec', () => []);
  registerDatabasePoolMetrics(registry, dataSource);
  new LedgerMetrics(registry);
  new PayoutMetrics(registry);
  new ClaimFlowMetrics(registry);
  const metrics = registry.getMetricsAsArray() as unknown as { name: string }[];
  return {
    names: new Set(metrics.map((m) => m.name)),
    histograms: new Set(metrics.filter((m) => m instanceof Histogram).map((m) => m.name)),
  };
}

/** Prometheus' own series, not any service's. */
const PROMETHEUS_SERIES = new Set(['up']);

/** The metric names a PromQL expression reads: ours (claimchain_), Node's (nodejs_, process_) and Prometheus' own. */
function metricNamesIn(expr: string): string[] {
  const identifiers = expr.replace(/"[^"]*"/g, '""').match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? [];
  return identifiers.filter((id) => /^(claimchain|nodejs|process)_/.test(id) || PROMETHEUS_SERIES.has(id));
}

/** GitHub's anchor for a heading: lower case, spaces to dashes, punctuation dropped. */
const anchorOf = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\w\- ]/g, '')
    .replace(/ /g, '-');

describe('deploy/k8s/components/monitoring', () => {
  const { names, histograms } = registeredMetrics();
  const isRegistered = (name: string) => {
    if (names.has(name) || PROMETHEUS_SERIES.has(name)) return true;
    const base = name.replace(/_(bucket|sum|count)$/, '');
    return base !== name && histograms.has(base);
  };

  it('queries only metrics the code registers, in alerts and dashboard panels alike', () => {
    const used = [
      ...rules.flatMap((r) => metricNamesIn(r.expr).map((name) => ({ at: `alert ${r.alert}`, name }))),
      ...panels.flatMap((p) =>
        (p.targets ?? []).flatMap((t) => metricNamesIn(t.expr).map((name) => ({ at: `panel ${p.title}`, name }))),
      ),
    ];
    expect(new Set(used.map((u) => u.name)).size).toBeGreaterThanOrEqual(15);
    expect(used.filter((u) => !isRegistered(u.name))).toEqual([]);
  });

  it('catches a metric the code does not register', () => {
    expect(isRegistered('claimchain_events_consumed_total')).toBe(true);
    expect(isRegistered('claimchain_http_request_duration_seconds_bucket')).toBe(true);
    expect(isRegistered('claimchain_events_consumed')).toBe(false);
    expect(isRegistered('claimchain_ledger_leaves_bucket')).toBe(false);
  });

  it('alerts on what ops must act on, each with a severity, a summary and a runbook section that exists', () => {
    expect(rules.map((r) => r.alert).sort()).toEqual([
      'ClaimchainCheckpointLate',
      'ClaimchainClaimsHeld',
      'ClaimchainConsumerLagGrowing',
      'ClaimchainDeadLetters',
      'ClaimchainForgedEvents',
      'ClaimchainHttpErrors',
      'ClaimchainLedgerBreakerOpen',
      'ClaimchainOutboxAgeing',
      'ClaimchainPaymentsRefused',
      'ClaimchainPayoutsFailed',
      'ClaimchainServiceDown',
    ]);
    const anchors = new Set(
      readFileSync(join(ROOT, 'docs/operations.md'), 'utf8')
        .split('\n')
        .filter((line) => line.startsWith('#'))
        .map((line) => anchorOf(line.replace(/^#+/, ''))),
    );
    for (const rule of rules) {
      const [path, anchor] = (rule.annotations?.runbook_url ?? '').split('#');
      expect({
        alert: rule.alert,
        severity: ['critical', 'warning'].includes(rule.labels?.severity ?? ''),
        summary: (rule.annotations?.summary ?? '').length > 10,
        runbook: path === 'docs/operations.md' && anchors.has(anchor),
      }).toEqual({ alert: rule.alert, severity: true, summary: true, runbook: true });
    }
  });

  it('has a ServiceMonitor per service on the port its Service names metrics', () => {
    const monitors = all.filter((d) => d.kind === 'ServiceMonitor');
    expect(monitors.map((m) => m.metadata.name).sort()).toEqual([...SERVICE_NAMES].sort());
    for (const service of SERVICE_NAMES) {
      const monitor = monitors.find((m) => m.metadata.name === service)!;
      const [svc] = parseAllDocuments(readFileSync(join(HERE, '../../base', service, 'service.yaml'), 'utf8')).map(
        (d) => d.toJS() as Doc,
      );
      const selector = monitor.spec!.selector!.matchLabels!;
      expect(Object.entries(selector).every(([k, v]) => svc.metadata.labels?.[k] === v)).toBe(true);
      expect(monitor.spec!.endpoints).toEqual([expect.objectContaining({ port: 'metrics', path: '/metrics' })]);
      expect(svc.spec!.ports!.map((p) => p.name)).toContain('metrics');
    }
  });

  it('ships the dashboard for the Grafana sidecar, with the claim flow, lag, latency, dead letters, outbox and breaker', () => {
    expect(dashboardMap.metadata.labels).toEqual({ grafana_dashboard: '1' });
    const exprs = (title: RegExp) =>
      panels
        .filter((p) => title.test(p.title))
        .flatMap((p) => p.targets ?? [])
        .map((t) => t.expr)
        .join('\n');
    expect(exprs(/accepted → verified → adjudicated → paid/)).toMatch(/claimchain_payouts_total\{status="settled"\}/);
    expect(exprs(/Consumer lag/)).toContain('claimchain_consumer_lag_messages');
    expect(exprs(/latency/)).toContain('claimchain_http_request_duration_seconds_bucket');
    expect(exprs(/Dead letters/)).toContain('outcome="dead_lettered"');
    expect(exprs(/Outbox/)).toContain('claimchain_outbox_oldest_unsent_age_seconds');
    expect(exprs(/breaker/)).toContain('claimchain_ledger_circuit_open');
  });
});
