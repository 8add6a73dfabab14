/**
 * Offline checks of deploy/k8s/components (the operator's opt-in kustomize components) and of every rendered object:
 * 1. each object of each target validates against its kind's schema from the model libraries (the Kubernetes API's
 *    own schemas, and the CRDs of Strimzi, CloudNativePG, prometheus-operator and KEDA); a kind without a model
 *    fails, so a new component is validated the day it is added;
 * 2. the components agree with the code: a KafkaTopic per topic and dead-letter topic with topicSpecs()' partition
 *    counts, each KafkaUser's ACLs exactly what its service produces and consumes (read from the outbox calls and
 *    the @EventPattern subscriptions), the databases the services derive, autoscalers only where a service holds no
 *    leadership, the audit's exit codes, and NetworkPolicies that admit exactly the connections the code makes.
 * Rendering is kustomize.model.ts' (one renderer for both specs).
 */
import 'reflect-metadata';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { PATTERN_METADATA } from '@nestjs/microservices/constants';
import * as core from 'kubernetes-models/v1';
import * as apps from 'kubernetes-models/apps/v1';
import * as batch from 'kubernetes-models/batch/v1';
import * as policy from 'kubernetes-models/policy/v1';
import * as autoscaling from 'kubernetes-models/autoscaling/v2';
import * as networking from 'kubernetes-models/networking.k8s.io/v1';
import * as rbac from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import * as strimzi from '@kubernetes-models/strimzi-kafka-operator/kafka.strimzi.io/v1';
import * as cnpg from '@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1';
import * as monitoring from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import * as keda from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { SERVICES, SERVICE_NAMES, ServiceName, databaseUrlFor, loadServiceConfig } from '@claimchain/config';
import {
  ALL_TOPICS,
  EventCatalog,
  TOPIC_PARTITIONS,
  Topics,
  dlqTopicOf,
  topicSpecs,
  topicsOwnedBy,
} from '@claimchain/wire';
import { BODY_LIMIT_BYTES } from '@claimchain/http';
import { REPLAYER_GROUP } from '@claimchain/messaging';
import { LEDGER_AUDIT_EXIT as EXIT, loadLedgerAnchoringConfig } from '../../apps/ledger-anchoring/src';
import { LOAD_SERVICE_CONFIG } from './service-configs';
import { productionSourceOf, productionSourcesOf } from './app-sources';
import {
  Container,
  Endpoint,
  Kustomization,
  Manifest,
  Rendered,
  allowsConnection,
  containersOf,
  endpointOf,
  find,
  networkPoliciesOf,
  podSpecOf,
  readDocs,
  render,
  workloads,
} from './kustomize.model';

const K8S = __dirname;
const COMPONENTS = join(K8S, 'components');
const NAMESPACE = 'claimchain';
const FULL = 'overlays/with-operators';

/** Every component: a directory under components/ with a kustomization.yaml, as `strimzi`, `autoscaling/keda`. */
const COMPONENT_NAMES = (function walk(dir: string): string[] {
  const subdirs = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory());
  return [dir, ...subdirs.flatMap((e) => walk(join(dir, e.name)))];
})(COMPONENTS)
  .filter((dir) => existsSync(join(dir, 'kustomization.yaml')))
  .map((dir) => relative(COMPONENTS, dir));
/** Components that patch another component's objects, which must be listed before them. */
const PREREQUISITES: Record<string, string[]> = { 'autoscaling/keda': ['strimzi'] };

/**
 * What is rendered and validated: the overlays, and the base with each component alone (after its prerequisites),
 * so a component no overlay enables yet is validated all the same.
 */
const TARGETS: { name: string; rendered: () => Rendered }[] = [
  ...['base', 'overlays/example', FULL].map((t) => ({ name: t, rendered: () => render(join(K8S, t)) })),
  ...COMPONENT_NAMES.map((c) => ({
    name: `base + ${[...(PREREQUISITES[c] ?? []), c].join(' + ')}`,
    rendered: () => withComponents(...(PREREQUISITES[c] ?? []), c),
  })),
];

/** The base with `components` applied in order, as an overlay listing them would render it. */
function withComponents(...components: string[]): Rendered {
  const out = render(join(K8S, 'base'));
  for (const c of components) render(join(COMPONENTS, c), out);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// The model libraries, by apiVersion and kind.

type ModelClass = { apiVersion: string; kind: string; new (data: object): { validate(): void } };
const isModelClass = (v: unknown): v is ModelClass =>
  typeof v === 'function' && typeof (v as Partial<ModelClass>).kind === 'string' && 'apiVersion' in v;
const MODELS = new Map<string, ModelClass>(
  [core, apps, batch, policy, autoscaling, networking, rbac, strimzi, cnpg, monitoring, keda]
    .flatMap((group) => Object.values(group).filter(isModelClass))
    .map((model) => [`${model.apiVersion}/${model.kind}`, model]),
);

/** The validation errors of `m` against its kind's schema, or why it has none. */
function schemaErrors(m: Manifest): string | undefined {
  const Model = MODELS.get(`${m.apiVersion}/${m.kind}`);
  if (!Model) return `no model for ${m.apiVersion} ${m.kind}: import its API group's models here`;
  try {
    new Model(m).validate();
    return undefined;
  } catch (error) {
    return String(error);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Facts from the code.

type TopicKey = keyof typeof Topics;
/**
 * Topics a service publishes: those it hands to its outbox (`outbox.add(em, Topics.X`, `out.event(Topics.X`) or
 * builds events for (`buildEvent(Topics.X`, `topic: Topics.X`). Checked below: every topic has exactly one producer.
 */
function producedTopics(service: ServiceName): string[] {
  const source = productionSourceOf(service);
  const found = [
    ...source.matchAll(/(?:buildEvent|\.add|\.event)\(\s*(?:\w+,\s*)?Topics\.(\w+)/g),
    ...source.matchAll(/\btopic:\s*Topics\.(\w+)/g),
  ].map((m) => Topics[m[1] as TopicKey]);
  return [...new Set(found)].sort();
}

/** Topics a service subscribes to: the patterns of its @EventPattern handlers, from Nest's metadata. */
function consumedTopics(service: ServiceName): string[] {
  const topics = new Set<string>();
  for (const file of productionSourcesOf(service).filter((f) => readFileSync(f, 'utf8').includes('@EventPattern('))) {
    const exported = require(file) as Record<string, unknown>; // eslint-disable-line @typescript-eslint/no-require-imports
    for (const value of Object.values(exported)) {
      if (typeof value !== 'function') continue;
      const proto = value.prototype as Record<string, unknown>;
      for (const name of Object.getOwnPropertyNames(proto)) {
        const patterns = Reflect.getMetadata(PATTERN_METADATA, proto[name] as object) as unknown[] | undefined;
        for (const p of (patterns ?? []).flat()) topics.add(String(p));
      }
    }
  }
  return [...topics].sort();
}

/** What each service may write: the topics contracts' TopicOwners gives it (ADR 18), checked against its code below. */
const PRODUCED = new Map(SERVICE_NAMES.map((s) => [s, topicsOwnedBy(s).sort()]));
const CONSUMED = new Map(SERVICE_NAMES.map((s) => [s, consumedTopics(s)]));

// Placeholders of the right shape for values the operator provides (Secrets, operator ConfigMaps).
const OPERATOR_VALUES: Record<string, string> = {
  DATABASE_URL: 'postgres://role:secret@claimchain-pg-rw:5432/postgres?sslmode=verify-full',
  LEDGER_VERIFIER_KEY: `claimchain.example/ledger+0a1b2c3d+${Buffer.alloc(33, 1).toString('base64')}`,
  EVENT_VERIFIER_KEYS:
    'claim-intake+d1ade678+ATh1pm7lJGY6pMMTDm6Pk9Y1g3AIwVz4iqAHvEa1g9M1,treatment-verification+d1b000d0+Adm5GJpXSGyHOMd9JmxcN7tPoKmROhbaucQddnjZCynG,ledger-anchoring+8b13e999+AWcxTx0Ghq+8/OgTZ8K3vydzIcC8wL3VyD5B+mgQ8f2c,payout+54d426f8+ARBCcHEaj6jQVvp6Fh2MxsmH/SJ434SxidIIRY+dNSYU',
};
const OPERATOR_VALUE = 'operator-provided-value-of-sufficient-length';

/** The environment a container starts with; secrets and operator values as placeholders of the right shape. */
function environmentOf(r: Rendered, c: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of c.envFrom ?? []) Object.assign(env, r.configMaps.get(from.configMapRef?.name ?? ''));
  for (const e of c.env ?? []) {
    const cm = e.valueFrom?.configMapKeyRef;
    if (e.value !== undefined) env[e.name] = e.value;
    else env[e.name] = (cm && r.configMaps.get(cm.name)?.[cm.key]) ?? OPERATOR_VALUES[e.name] ?? OPERATOR_VALUE;
  }
  return env;
}
const envVar = (c: Container, name: string) => c.env?.find((e) => e.name === name);

function serviceOf(r: Rendered, service: ServiceName): { deployment: Manifest; container: Container } {
  const deployment = find(r, 'Deployment', service);
  const container = deployment && containersOf(deployment).find((c) => c.name === service);
  if (!deployment || !container) throw new Error(`no Deployment/container ${service}`);
  return { deployment, container };
}

/** The Secret key a volume mounted at the directory of `file` provides as that file. */
function mountedFile(r: Rendered, workload: Manifest, c: Container, file: string) {
  const mount = c.volumeMounts?.find((vm) => file.startsWith(`${vm.mountPath}/`));
  const volume = podSpecOf(workload)?.volumes?.find((v) => v.name === mount?.name);
  const item = volume?.secret?.items?.find((i) => i.path === basename(file));
  return { secret: volume?.secret?.secretName, key: item?.key, readOnly: mount?.readOnly };
}

const byKind = (r: Rendered, kind: string) => r.manifests.filter((m) => m.kind === kind);
// Custom resources' specs, loosely typed: their schemas are checked by the models above.
type Spec = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const specOf = (m: Manifest) => m.spec as Spec;

// ---------------------------------------------------------------------------------------------------------------

describe('deploy/k8s components', () => {
  describe.each(TARGETS)('$name', ({ rendered }) => {
    it('validates every object against its kind’s schema (Kubernetes, Strimzi, CloudNativePG, KEDA, prometheus-operator)', () => {
      const r = rendered();
      expect(r.manifests.length).toBeGreaterThan(0);
      const invalid = r.manifests
        .map((m) => ({ object: `${m.kind}/${m.metadata.name}`, error: schemaErrors(m) }))
        .filter((v) => v.error !== undefined);
      expect(invalid).toEqual([]);
    });
  });

  it('validation refuses what the cluster would: a schema error, and a kind no model knows', () => {
    const { deployment } = serviceOf(render(join(K8S, 'base')), 'payout');
    const broken = { ...deployment, spec: { ...deployment.spec, replicas: 'two' } } as unknown as Manifest;
    expect(schemaErrors(broken)).toMatch(/replicas/);
    const topic = find(withComponents('strimzi'), 'KafkaTopic', Topics.ClaimsSubmitted)!;
    expect(schemaErrors({ ...topic, spec: { ...topic.spec, partitions: 0 } })).toMatch(/partitions/);
    expect(schemaErrors({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } })).toMatch(/no model/);
  });

  it('each component is a kustomize Component with a README', () => {
    expect(COMPONENT_NAMES.length).toBeGreaterThanOrEqual(7);
    for (const at of COMPONENT_NAMES) {
      const dir = join(COMPONENTS, at);
      const k = readDocs<Kustomization>(join(dir, 'kustomization.yaml'))[0];
      expect({ at, apiVersion: k.apiVersion, kind: k.kind }).toEqual({
        at,
        apiVersion: 'kustomize.config.k8s.io/v1alpha1',
        kind: 'Component',
      });
      // autoscaling/hpa and autoscaling/keda share one README, which says to pick one.
      const readme = [dir, join(dir, '..')].map((d) => join(d, 'README.md')).find(existsSync);
      expect({ at, readme: readme !== undefined }).toEqual({ at, readme: true });
    }
  });

  describe('strimzi', () => {
    const r = withComponents('strimzi');
    const [kafka] = byKind(r, 'Kafka');
    const cluster = kafka.metadata.name;

    it('derives each service’s topics from the owner map, which is what its code produces; one producer per topic', () => {
      // The single owner map (contracts' TopicOwners, which the consumers' signature check also reads) against the
      // topics each service's code hands its outbox: a producer moved in code but not in the map fails here.
      for (const s of SERVICE_NAMES)
        expect({ s, produced: producedTopics(s) }).toEqual({ s, produced: PRODUCED.get(s) });
      for (const topic of ALL_TOPICS) {
        const producers = SERVICE_NAMES.filter((s) => PRODUCED.get(s)!.includes(topic));
        expect({ topic, producers: producers.length }).toEqual({ topic, producers: 1 });
      }
      // What the code's comments and DESIGN.md say, as a check on the derivation itself.
      expect(PRODUCED.get('ledger-anchoring')).toEqual([Topics.LedgerAnchored, Topics.LedgerCheckpoints].sort());
      expect(CONSUMED.get('treatment-verification')).toEqual(
        [
          Topics.ClaimsCancelled,
          Topics.ClaimsPended,
          Topics.ClaimsSubmitted,
          Topics.PayoutsCancellationDecided,
          Topics.PayoutsWithdrawalDecided,
        ].sort(),
      );
      for (const s of SERVICE_NAMES) for (const t of CONSUMED.get(s)!) expect(t in EventCatalog).toBe(true);
    });

    it('runs a KRaft cluster of 3 brokers and 3 controllers that keeps an acknowledged event on 2 of them', () => {
      const pools = byKind(r, 'KafkaNodePool').filter((p) => p.metadata.labels?.['strimzi.io/cluster'] === cluster);
      const count = (role: string) =>
        pools.filter((p) => specOf(p).roles.includes(role)).reduce((n, p) => n + (specOf(p).replicas as number), 0);
      expect({ brokers: count('broker'), controllers: count('controller') }).toEqual({ brokers: 3, controllers: 3 });
      expect(specOf(kafka).kafka.config).toMatchObject({
        'min.insync.replicas': 2,
        'default.replication.factor': 3,
        'auto.create.topics.enable': false,
      });
      expect(specOf(kafka).kafka.authorization.type).toBe('simple');
    });

    it('declares a KafkaTopic per topic and dead-letter topic, with the partitions the code expects', () => {
      const topics = byKind(r, 'KafkaTopic');
      const declared = topics.map((t) => ({
        topic: (specOf(t).topicName as string | undefined) ?? t.metadata.name,
        numPartitions: specOf(t).partitions as number,
      }));
      const byName = (a: { topic: string }, b: { topic: string }) => a.topic.localeCompare(b.topic);
      expect(declared.sort(byName)).toEqual(topicSpecs().sort(byName));
      const inboxMs = loadServiceConfig('claim-intake', {}).retention.inboxMs;
      for (const t of topics) {
        const at = t.metadata.name;
        expect({ at, cluster: t.metadata.labels?.['strimzi.io/cluster'] }).toEqual({ at, cluster });
        expect({ at, replicas: specOf(t).replicas }).toEqual({ at, replicas: 3 });
        // A redelivery after the inbox forgot the event's id would apply it twice (docs/operations.md, Kafka).
        expect({ at, retentionBelowInbox: Number(specOf(t).config['retention.ms']) < inboxMs }).toEqual({
          at,
          retentionBelowInbox: true,
        });
      }
      // The Topic Operator owns the topics: the base's Job creating them is gone.
      expect(find(r, 'Job', 'claimchain-kafka-topics')).toBeUndefined();
    });

    it.each(SERVICE_NAMES)(
      '%s: its KafkaUser may write what it produces and its dead letters, and read what it consumes',
      (service) => {
        const { container } = serviceOf(r, service);
        const username = envVar(container, 'KAFKA_SASL_USERNAME')?.value;
        const user = find(r, 'KafkaUser', username ?? '');
        expect({ service, user: user?.metadata.name }).toEqual({ service, user: expect.any(String) });
        expect(user!.metadata.labels?.['strimzi.io/cluster']).toBe(cluster);
        const groupId = LOAD_SERVICE_CONFIG[service](environmentOf(r, container)).kafkaGroupId;
        const acls = (specOf(user!).authorization.acls as Spec[]).flatMap((acl) =>
          (acl.operations as string[]).map(
            (op) =>
              `${acl.type ?? 'allow'} ${op} ${acl.resource.type} ${acl.resource.patternType} ${acl.resource.name}`,
          ),
        );
        const consumed = CONSUMED.get(service)!;
        const expected = [
          ...PRODUCED.get(service)!.map((t) => `allow Write topic literal ${t}`),
          ...consumed.map((t) => `allow Write topic literal ${dlqTopicOf(t as never)}`),
          ...consumed.map((t) => `allow Read topic literal ${t}`),
          `allow Read group literal ${groupId}`,
        ];
        expect(acls.sort()).toEqual(expected.sort());
      },
    );

    it.each(SERVICE_NAMES)('%s: connects to the TLS listener as its user, trusting the cluster CA', (service) => {
      const { deployment, container } = serviceOf(r, service);
      const env = environmentOf(r, container);
      const config = LOAD_SERVICE_CONFIG[service]({ NODE_ENV: 'production', ...env });
      const listener = (specOf(kafka).kafka.listeners as Spec[]).find(
        (l) => config.kafkaBrokers[0] === `${cluster}-kafka-bootstrap:${l.port}`,
      );
      expect({ service, listener: listener?.name }).toEqual({ service, listener: expect.any(String) });
      expect(listener!.tls).toBe(true);
      expect(config.kafkaSecurity.sasl?.mechanism).toBe(listener!.authentication.type);
      expect(envVar(container, 'KAFKA_SASL_PASSWORD')?.valueFrom?.secretKeyRef).toEqual({
        name: config.kafkaSecurity.sasl?.username, // the User Operator's Secret is named after the user
        key: 'password',
      });
      expect(mountedFile(r, deployment, container, config.kafkaSecurity.ssl!.caFile!)).toEqual({
        secret: `${cluster}-cluster-ca-cert`,
        key: 'ca.crt',
        readOnly: true,
      });
    });

    it('lets the ops user list and replay dead letters, in the consumer groups dlq.js uses', () => {
      const ops = find(r, 'KafkaUser', 'claimchain-ops')!;
      const acls = specOf(ops).authorization.acls as Spec[];
      const may = (op: string, type: string, name: string) =>
        acls.some(
          (acl) =>
            (acl.operations as string[]).includes(op) &&
            acl.resource.type === type &&
            (acl.resource.patternType === 'prefix' ? name.startsWith(acl.resource.name) : name === acl.resource.name),
        );
      for (const topic of ALL_TOPICS) {
        expect({
          topic,
          readDlq: may('Read', 'topic', dlqTopicOf(topic)),
          replay: may('Write', 'topic', topic),
        }).toEqual({ topic, readDlq: true, replay: true });
      }
      // listDeadLetters reads in a throwaway group claimchain.dlq-reader.<uuid>, replay in REPLAYER_GROUP.
      expect(may('Read', 'group', REPLAYER_GROUP)).toBe(true);
      expect(may('Read', 'group', 'claimchain.dlq-reader.0190a5e2-0000-7000-8000-000000000000')).toBe(true);
      expect(may('Read', 'group', 'claimchain.payout')).toBe(false);
    });

    it('gives no Kafka credentials to the Jobs, which read the shared configuration', () => {
      const config = r.configMaps.get('claimchain-config')!;
      expect(Object.keys(config).filter((k) => /^KAFKA_(SASL|SSL)/.test(k))).toEqual([]);
      for (const job of workloads(r).filter((m) => m.kind !== 'Deployment')) {
        for (const c of containersOf(job)) expect(envVar(c, 'KAFKA_SASL_PASSWORD')).toBeUndefined();
      }
    });
  });

  describe('cloudnative-pg', () => {
    const r = render(join(K8S, FULL));
    const [cluster] = byKind(r, 'Cluster');
    const prefix = r.configMaps.get('claimchain-config')!.DATABASE_PREFIX;
    const readme = readFileSync(join(COMPONENTS, 'cloudnative-pg/README.md'), 'utf8');

    it.each(SERVICE_NAMES)(
      '%s: owns the database it derives, as a login role whose password its URL holds',
      (service) => {
        const { container } = serviceOf(r, service);
        const urlSecret = envVar(container, 'DATABASE_URL')?.valueFrom?.secretKeyRef;
        const role = (specOf(cluster).managed.roles as Spec[]).find((x) => x.passwordSecret?.name === urlSecret?.name);
        expect({ service, role: role?.name, login: role?.login }).toEqual({
          service,
          role: expect.any(String),
          login: true,
        });
        const derived = new URL(databaseUrlFor(service, 'postgres://any@host/any', prefix)).pathname.slice(1);
        const database = byKind(r, 'Database').find((d) => specOf(d).name === derived);
        expect({ service, database: database && specOf(database) }).toEqual({
          service,
          database: expect.objectContaining({ owner: role!.name, cluster: { name: cluster.metadata.name } }),
        });
      },
    );

    it('verifies the server against the cluster CA in every pod that connects, at the path the README’s URL names', () => {
      const users = workloads(r).filter((m) => containersOf(m).some((c) => envVar(c, 'DATABASE_URL')));
      expect(users.map((m) => m.kind).sort()).toEqual(
        [...Array(4).fill('Deployment'), ...Array(4).fill('Job'), 'CronJob'].sort(),
      );
      const rootcert = /sslmode=verify-full&sslrootcert=(\/[\w/.-]+)/.exec(readme)?.[1];
      expect(rootcert).toBeDefined();
      for (const m of users) {
        const c = containersOf(m).find((x) => envVar(x, 'DATABASE_URL'))!;
        expect({ at: m.metadata.name, ...mountedFile(r, m, c, rootcert!) }).toEqual({
          at: m.metadata.name,
          secret: `${cluster.metadata.name}-ca`,
          key: 'ca.crt',
          readOnly: true,
        });
      }
    });

    it('backs up nightly through the plugin that archives the WAL, for point-in-time recovery', () => {
      const [backup] = byKind(r, 'ScheduledBackup');
      expect(specOf(backup).cluster.name).toBe(cluster.metadata.name);
      expect(specOf(backup).method).toBe('plugin');
      const plugin = (specOf(cluster).plugins as Spec[]).find(
        (p) => p.name === specOf(backup).pluginConfiguration.name,
      );
      expect(plugin?.isWALArchiver).toBe(true);
    });
  });

  describe('autoscaling', () => {
    /** Services that elect a leader among their replicas (a Postgres lease): scaling in can remove the leader. */
    const leaders = SERVICE_NAMES.filter((s) => /new LeaderLease\(/.test(productionSourceOf(s)));
    const stateless = SERVICE_NAMES.filter((s) => !leaders.includes(s));
    const hpa = render(join(K8S, FULL));
    const kedaRendered = withComponents('strimzi', 'autoscaling/keda');

    it('scales every stateless service and not the ledger, whose pods elect a checkpoint leader', () => {
      expect(leaders).toEqual(['ledger-anchoring']);
      const targets = (r: Rendered, kind: string) =>
        byKind(r, kind)
          .map((m) => specOf(m).scaleTargetRef.name as string)
          .sort();
      expect(targets(hpa, 'HorizontalPodAutoscaler')).toEqual([...stateless].sort());
      expect(targets(kedaRendered, 'ScaledObject')).toEqual([...stateless].sort());
      for (const r of [hpa, kedaRendered]) {
        for (const s of stateless) expect({ s, replicas: find(r, 'Deployment', s)?.spec?.replicas }).toEqual({ s });
        for (const s of leaders) expect(find(r, 'Deployment', s)?.spec?.replicas).toBeGreaterThanOrEqual(2);
      }
      for (const h of byKind(hpa, 'HorizontalPodAutoscaler')) {
        // Two pods at least: a PodDisruptionBudget of maxUnavailable 1 must still leave one serving.
        expect(specOf(h).minReplicas).toBeGreaterThanOrEqual(2);
      }
    });

    it.each(SERVICE_NAMES.filter((s) => !/new LeaderLease\(/.test(productionSourceOf(s))))(
      '%s: KEDA reads the lag of its consumer group, as its Kafka user, never above the partitions for events',
      (service) => {
        const { container } = serviceOf(kedaRendered, service);
        const config = LOAD_SERVICE_CONFIG[service](environmentOf(kedaRendered, container));
        const scaled = byKind(kedaRendered, 'ScaledObject').find((m) => specOf(m).scaleTargetRef.name === service)!;
        const trigger = (specOf(scaled).triggers as Spec[]).find((t) => t.type === 'kafka')!;
        expect(trigger.metadata).toMatchObject({
          bootstrapServers: config.kafkaBrokers.join(','),
          consumerGroup: config.kafkaGroupId,
          allowIdleConsumers: 'false',
          sasl: config.kafkaSecurity.sasl!.mechanism.replace('scram-sha-', 'scram_sha'),
          tls: 'enable',
        });
        if (!(specOf(scaled).triggers as Spec[]).some((t) => t.type === 'cpu')) {
          expect(specOf(scaled).maxReplicaCount).toBeLessThanOrEqual(TOPIC_PARTITIONS);
        }
        const auth = find(kedaRendered, 'TriggerAuthentication', trigger.authenticationRef.name)!;
        const password = (specOf(auth).secretTargetRef as Spec[]).find((s) => s.parameter === 'password');
        expect({ name: password?.name, key: password?.key }).toEqual(
          envVar(container, 'KAFKA_SASL_PASSWORD')?.valueFrom?.secretKeyRef,
        );
        expect(specOf(auth).env).toEqual([
          { parameter: 'username', name: 'KAFKA_SASL_USERNAME', containerName: service },
        ]);
      },
    );

    it('lets KEDA reach the Kafka listener, which otherwise admits only claimchain’s pods', () => {
      const listeners = (r: Rendered) => specOf(byKind(r, 'Kafka')[0]).kafka.listeners as Spec[];
      const [plain] = listeners(withComponents('strimzi'));
      const [withKeda] = listeners(kedaRendered);
      // The patch repeats the listener (kustomize replaces a custom resource's lists): only the peers may differ.
      expect({ ...withKeda, networkPolicyPeers: undefined }).toEqual({ ...plain, networkPolicyPeers: undefined });
      expect(withKeda.networkPolicyPeers).toEqual([
        ...plain.networkPolicyPeers,
        expect.objectContaining({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'keda' } } }),
      ]);
    });
  });

  describe('ledger-audit', () => {
    const r = render(join(K8S, FULL));
    const [cron] = byKind(r, 'CronJob');
    const [container] = containersOf(cron);
    const job = specOf(cron).jobTemplate.spec as Spec;

    it('runs the ledger audit on ledger-anchoring’s database and verifier keys, without the signing key', () => {
      expect(container.args).toEqual(['dist/scripts/audit-ledger.js']);
      const ledger = serviceOf(r, 'ledger-anchoring').container;
      for (const name of ['DATABASE_URL', 'LEDGER_VERIFIER_KEY']) {
        expect(envVar(container, name)?.valueFrom).toEqual(envVar(ledger, name)?.valueFrom);
      }
      const config = loadLedgerAnchoringConfig(environmentOf(r, container));
      expect(config.ledger.verifierKeys.length).toBeGreaterThan(0);
      expect(config.ledger.signingKeyFile).toBeUndefined();
      expect(specOf(cron).concurrencyPolicy).toBe('Forbid');
    });

    it('fails its Job at once on a finding, bad input or a bug, and retries only an unreachable database', () => {
      expect(podSpecOf(cron)!.restartPolicy).toBe('Never');
      const failing = (job.podFailurePolicy.rules as Spec[])
        .filter((rule) => rule.action === 'FailJob' && rule.onExitCodes.operator === 'In')
        .flatMap((rule) => rule.onExitCodes.values as number[]);
      expect(failing.sort()).toEqual([EXIT.finding, EXIT.input, EXIT.internal].sort());
      expect(failing).not.toContain(EXIT.unreachable);
      expect(job.backoffLimit).toBeGreaterThan(0);
    });
  });

  describe('network-policies', () => {
    const r = render(join(K8S, FULL));
    const [kafka] = byKind(r, 'Kafka');
    const [pg] = byKind(r, 'Cluster');
    // The NetworkPolicy Strimzi generates for each listener: its port, from the listener's networkPolicyPeers.
    const strimziGenerated: Manifest[] = (specOf(kafka).kafka.listeners as Spec[]).map((l) => ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: `${kafka.metadata.name}-network-policy-kafka-${l.name}`, namespace: NAMESPACE },
      spec: {
        podSelector: { matchLabels: { 'strimzi.io/cluster': kafka.metadata.name, 'strimzi.io/kind': 'Kafka' } },
        policyTypes: ['Ingress'],
        ingress: [{ from: l.networkPolicyPeers, ports: [{ protocol: 'TCP', port: l.port }] }],
      },
    }));
    const policies = [...networkPoliciesOf(r, NAMESPACE), ...strimziGenerated];
    const allows = (from: Endpoint, to: Endpoint, port: number) => allowsConnection(policies, from, to, port);

    // The pods around claimchain's, labelled as their operators and charts label them.
    const broker: Endpoint = {
      namespace: NAMESPACE,
      labels: {
        'strimzi.io/cluster': kafka.metadata.name,
        'strimzi.io/kind': 'Kafka',
        'strimzi.io/broker-role': 'true',
      },
    };
    const postgres: Endpoint = { namespace: NAMESPACE, labels: { 'cnpg.io/cluster': pg.metadata.name } };
    const dns: Endpoint = { namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } };
    const ingressController: Endpoint = {
      namespace: 'ingress-nginx',
      labels: { 'app.kubernetes.io/name': 'ingress-nginx' },
    };
    const prometheus: Endpoint = { namespace: 'monitoring', labels: { 'app.kubernetes.io/name': 'prometheus' } };
    const intruder: Endpoint = { namespace: NAMESPACE, labels: { app: 'debug-shell' } };
    const elsewhere: Endpoint = { namespace: 'other-team', labels: { 'app.kubernetes.io/name': 'payout' } };
    const internet: Endpoint = { namespace: '', labels: {}, ip: '203.0.113.10' };
    const privateAddress: Endpoint = { namespace: '', labels: {}, ip: '10.1.2.3' };
    const cloudMetadata: Endpoint = { namespace: '', labels: {}, ip: '169.254.169.254' };
    /** The port components/monitoring gives each service's container, by name; the policy names it, not its number. */
    const METRICS_PORT = 9464;

    const service = (s: ServiceName): Endpoint => {
      const e = endpointOf(serviceOf(r, s).deployment, NAMESPACE);
      return { ...e, ports: { metrics: METRICS_PORT, ...e.ports } };
    };
    const httpPort = (s: ServiceName) => SERVICES[s].port;
    /**
     * service → the services it calls: a variable of its environment holds the other's URL and its code reads that
     * setting (env.ts maps LEDGER_URL to `ledger.url`; every pod has it from claimchain-config, payout alone uses it).
     */
    const calls = (s: ServiceName): ServiceName[] =>
      Object.entries(environmentOf(r, serviceOf(r, s).container))
        .filter(
          ([name, value]) =>
            /^https?:\/\//.test(value) && productionSourceOf(s).includes(name.toLowerCase().replace('_', '.')),
        )
        .map(([, value]) => new URL(value).hostname)
        .filter((host): host is ServiceName => host in SERVICES);

    it('denies by default: a stray pod in the namespace reaches nothing and nothing reaches it', () => {
      for (const s of SERVICE_NAMES) {
        expect({ s, in: allows(intruder, service(s), httpPort(s)) }).toEqual({ s, in: false });
        expect({ s, out: allows(service(s), intruder, 8080) }).toEqual({ s, out: false });
        expect({ s, fromElsewhere: allows(elsewhere, service(s), httpPort(s)) }).toEqual({ s, fromElsewhere: false });
      }
      expect(allows(intruder, postgres, 5432)).toBe(false);
      expect(allows(intruder, broker, 9093)).toBe(false);
      expect(allows(intruder, internet, 443)).toBe(false);
    });

    it('lets services call each other only where their configuration points (payout → ledger-anchoring)', () => {
      expect(calls('payout')).toEqual(['ledger-anchoring']);
      for (const from of SERVICE_NAMES) {
        for (const to of SERVICE_NAMES.filter((t) => t !== from)) {
          const expected = calls(from).includes(to);
          expect({ from, to, allowed: allows(service(from), service(to), httpPort(to)) }).toEqual({
            from,
            to,
            allowed: expected,
          });
        }
      }
    });

    it('lets every service, migration and the audit reach PostgreSQL, and only the services reach Kafka', () => {
      const databaseUsers = workloads(r).filter((m) => containersOf(m).some((c) => envVar(c, 'DATABASE_URL')));
      expect(databaseUsers.length).toBe(9);
      for (const m of databaseUsers) {
        const at = `${m.kind}/${m.metadata.name}`;
        const e = endpointOf(m, NAMESPACE);
        expect({ at, postgres: allows(e, postgres, 5432) }).toEqual({ at, postgres: true });
        expect({ at, kafka: allows(e, broker, 9093) }).toEqual({ at, kafka: m.kind === 'Deployment' });
        expect({ at, dns: allows(e, dns, 53) }).toEqual({ at, dns: true });
        expect({ at, elsewhere: allows(e, elsewhere, 443) }).toEqual({ at, elsewhere: false });
      }
    });

    it('admits the ingress controller to the HTTP ports and Prometheus to the metrics port, each to its own', () => {
      for (const s of SERVICE_NAMES) {
        expect({ s, public: allows(ingressController, service(s), httpPort(s)) }).toEqual({ s, public: true });
        expect({ s, metricsFromIngress: allows(ingressController, service(s), METRICS_PORT) }).toEqual({
          s,
          metricsFromIngress: false,
        });
        expect({ s, scraped: allows(prometheus, service(s), METRICS_PORT) }).toEqual({ s, scraped: true });
        expect({ s, apiFromPrometheus: allows(prometheus, service(s), httpPort(s)) }).toEqual({
          s,
          apiFromPrometheus: false,
        });
      }
    });

    it('lets out to the internet only HTTPS from the services with an identity provider or webhooks', () => {
      const needsHttps = (s: ServiceName) => /AuthModule\.forRoot\(|\.webhookSecretKey\b/.test(productionSourceOf(s));
      for (const s of SERVICE_NAMES) {
        expect({ s, https: allows(service(s), internet, 443) }).toEqual({ s, https: needsHttps(s) });
        expect({ s, http: allows(service(s), internet, 80) }).toEqual({ s, http: false });
        expect({ s, private: allows(service(s), privateAddress, 443) }).toEqual({ s, private: false });
        expect({ s, metadata: allows(service(s), cloudMetadata, 443) }).toEqual({ s, metadata: false });
      }
    });
  });

  describe('ingress', () => {
    const r = render(join(K8S, FULL));
    const [ingress] = byKind(r, 'Ingress');
    const backends = (specOf(ingress).rules as Spec[]).flatMap((rule) =>
      (rule.http.paths as Spec[]).map((p) => ({ host: rule.host as string, path: p.path, ...p.backend.service })),
    );

    it('routes a host to each service’s HTTP port, and never the metrics port', () => {
      expect(backends.map((b) => b.name).sort()).toEqual([...SERVICE_NAMES].sort());
      for (const b of backends) {
        const port = find(r, 'Service', b.name)?.spec?.ports?.find((p) => p.name === b.port.name);
        expect({ at: b.host, port: port?.port, name: b.port.name }).toEqual({
          at: b.host,
          port: SERVICES[b.name as ServiceName].port,
          name: 'http',
        });
        expect(b.path.startsWith('/metrics')).toBe(false);
      }
      const tlsHosts = (specOf(ingress).tls as Spec[]).flatMap((t) => t.hosts as string[]);
      expect(tlsHosts.sort()).toEqual(backends.map((b) => b.host).sort());
    });

    it('lets bodies up to the services’ own limit through, so they answer an oversized one themselves', () => {
      const limit = (ingress.metadata as { annotations?: Record<string, string> }).annotations?.[
        'nginx.ingress.kubernetes.io/proxy-body-size'
      ];
      const bytes = Number(/^(\d+)m$/.exec(limit ?? '')?.[1]) * 1024 * 1024;
      expect(bytes).toBeGreaterThan(BODY_LIMIT_BYTES);
    });
  });
});
