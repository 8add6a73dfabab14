/**
 * A small model of kustomize and of the Kubernetes objects deploy/k8s uses, for the offline specs beside it
 * (manifests.spec.ts, components.spec.ts): no kustomize binary or API server exists on the development machines or
 * in CI. It renders what these kustomizations use: resources, components (kind: Component, applied to what the
 * including kustomization has gathered so far, as kustomize does), configMapGenerator (with behavior: merge),
 * strategic-merge patches by kind and name or by target (lists of named items merge by name, `null` removes a field,
 * `$patch: delete` removes the object), images, replicas and namespace; generatorOptions change nothing checked. A feature it does not model fails loudly
 * rather than rendering something kustomize would not.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

const ROOT = resolve(__dirname, '../..');

// The slice of the Kubernetes API these manifests use.

export interface KeyRef {
  name: string;
  key: string;
}
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: KeyRef; configMapKeyRef?: KeyRef };
}
export interface Probe {
  httpGet?: { path: string; port: string | number };
}
export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    runAsNonRoot?: boolean;
    capabilities?: { drop?: string[] };
  };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
export interface Volume {
  name: string;
  secret?: { secretName: string; items?: { key: string; path: string }[] };
  configMap?: { name: string; items?: { key: string; path: string }[] };
  emptyDir?: object;
}
export interface PodSpec {
  containers: Container[];
  volumes?: Volume[];
  enableServiceLinks?: boolean;
  automountServiceAccountToken?: boolean;
  terminationGracePeriodSeconds?: number;
  restartPolicy?: string;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
}
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}
export interface PolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}
export interface PolicyPort {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}
export interface PolicyRule {
  from?: PolicyPeer[];
  to?: PolicyPeer[];
  ports?: PolicyPort[];
}
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  data?: Record<string, string>;
  spec?: {
    replicas?: number;
    selector?: { matchLabels?: Record<string, string> } & Record<string, unknown>;
    strategy?: { rollingUpdate?: { maxUnavailable?: number | string } };
    template?: { metadata: { labels: Record<string, string> }; spec: PodSpec };
    jobTemplate?: { spec: { template: { metadata?: { labels?: Record<string, string> }; spec: PodSpec } } };
    ports?: { name?: string; port: number; targetPort: string | number }[];
    maxUnavailable?: number | string;
    minAvailable?: number | string;
    podSelector?: LabelSelector;
    policyTypes?: ('Ingress' | 'Egress')[];
    ingress?: PolicyRule[];
    egress?: PolicyRule[];
  } & Record<string, unknown>;
}
export interface Kustomization {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  resources?: string[];
  components?: string[];
  patches?: { path: string; target?: { kind: string; name?: string } }[];
  configMapGenerator?: { name: string; behavior?: string; envs?: string[]; files?: string[]; literals?: string[] }[];
  images?: { name: string; newName?: string; newTag?: string; digest?: string }[];
  replicas?: { name: string; count: number }[];
}
export interface Rendered {
  manifests: Manifest[];
  /** Generated or defined here, by name: their data. Any other ConfigMap is the operator's. */
  configMaps: Map<string, Record<string, string>>;
  images: Kustomization['images'];
  namespace?: string;
}

/** Kubernetes' own kinds (core, apps, batch, *.k8s.io…), whose named lists kustomize merges by name. */
const isBuiltIn = (m: Manifest) => {
  const group = m.apiVersion.includes('/') ? m.apiVersion.split('/')[0] : '';
  return !group.includes('.') || group.endsWith('.k8s.io');
};

/** The kustomization fields this model renders; anything else in a kustomization.yaml is refused. */
const MODELLED = new Set([
  'apiVersion',
  'kind',
  'namespace',
  'labels',
  'resources',
  'components',
  'patches',
  'configMapGenerator',
  'images',
  'replicas',
  'generatorOptions',
]);

export function readDocs<T>(file: string): T[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${relative(ROOT, file)}: ${doc.errors[0].message}`);
    return doc.toJS() as T;
  });
}

export function parseEnvFile(file: string): Record<string, string> {
  const entries = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.trim().startsWith('#'))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]);
  return Object.fromEntries(entries) as Record<string, string>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNamed = (v: unknown): v is { name: string } => isObject(v) && typeof v.name === 'string';

/**
 * Strategic merge as kustomize does it for these fields: lists of named items merge by name, other lists replace,
 * and a `null` value removes the field (an env entry's `valueFrom` replaced by a `value`, say). kustomize knows no
 * merge keys for custom resources, so there (`namedLists` false) every list is replaced whole.
 */
export function strategicMerge(base: unknown, patch: unknown, namedLists = true): unknown {
  if (namedLists && Array.isArray(base) && Array.isArray(patch) && [...base, ...patch].every(isNamed)) {
    const merged = base.map((b: { name: string }) => {
      const p = (patch as { name: string }[]).find((x) => x.name === b.name);
      return p ? strategicMerge(b, p, namedLists) : b;
    });
    return [
      ...merged,
      ...patch.filter((p: { name: string }) => !base.some((b: { name: string }) => b.name === p.name)),
    ];
  }
  if (isObject(base) && isObject(patch)) {
    const out: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(patch)) {
      if (value === null) delete out[key];
      else out[key] = key in base ? strategicMerge(base[key], value, namedLists) : value;
    }
    return out;
  }
  return patch;
}

/**
 * Renders the kustomization in `dir`. A Component is rendered onto `onto` (what its includer has gathered), the way
 * kustomize applies components after the includer's resources and before its own generators and patches.
 */
export function render(dir: string, onto?: Rendered): Rendered {
  const k = readDocs<Kustomization>(join(dir, 'kustomization.yaml'))[0];
  const at = relative(ROOT, dir);
  const unmodelled = Object.keys(k).filter((key) => !MODELLED.has(key));
  if (unmodelled.length > 0) throw new Error(`${at}: the model does not render ${unmodelled.join(', ')}`);
  const isComponent = k.kind === 'Component';
  if (isComponent !== (onto !== undefined)) {
    throw new Error(`${at}: a Component must be listed under components, anything else under resources`);
  }
  const out: Rendered = onto ?? { manifests: [], configMaps: new Map(), images: [] };
  for (const resource of k.resources ?? []) {
    const path = join(dir, resource);
    if (statSync(path).isDirectory()) {
      const inner = render(path);
      out.manifests.push(...inner.manifests);
      inner.configMaps.forEach((data, name) => out.configMaps.set(name, data));
    } else {
      const docs = readDocs<Manifest>(path);
      out.manifests.push(...docs);
      for (const m of docs) if (m.kind === 'ConfigMap') out.configMaps.set(m.metadata.name, m.data ?? {});
    }
  }
  for (const component of k.components ?? []) render(join(dir, component), out);
  for (const generator of k.configMapGenerator ?? []) {
    const existing = out.configMaps.get(generator.name);
    if (generator.behavior === 'merge' && !existing) throw new Error(`${at}: merges into unknown ${generator.name}`);
    const data: Record<string, string> = generator.behavior === 'merge' ? { ...existing } : {};
    for (const envs of generator.envs ?? []) Object.assign(data, parseEnvFile(join(dir, envs)));
    for (const file of generator.files ?? []) {
      const [key, path] = file.includes('=') ? file.split('=') : [basename(file), file];
      data[key] = readFileSync(join(dir, path), 'utf8');
    }
    for (const literal of generator.literals ?? [])
      data[literal.split('=')[0]] = literal.slice(literal.indexOf('=') + 1);
    out.configMaps.set(generator.name, data);
  }
  for (const { path, target } of k.patches ?? []) {
    for (const patch of readDocs<Manifest & { $patch?: string }>(join(dir, path))) {
      // With a target the patch applies to every match, none included; without, to the object it names, which
      // must exist.
      const matches = (m: Manifest) =>
        target
          ? m.kind === target.kind && (target.name === undefined || m.metadata.name === target.name)
          : m.kind === patch.kind && m.metadata.name === patch.metadata.name;
      const indexes = out.manifests.flatMap((m, i) => (matches(m) ? [i] : []));
      if (indexes.length === 0 && !target)
        throw new Error(`${relative(ROOT, join(dir, path))} patches a missing ${patch.kind}/${patch.metadata.name}`);
      if (patch.$patch === 'delete') {
        out.manifests = out.manifests.filter((_, i) => !indexes.includes(i));
        continue;
      }
      for (const i of indexes) {
        const { metadata: _ignored, ...body } = patch;
        out.manifests[i] = strategicMerge(
          out.manifests[i],
          target ? body : patch,
          isBuiltIn(out.manifests[i]),
        ) as Manifest;
      }
    }
  }
  for (const image of k.images ?? []) {
    for (const c of out.manifests.flatMap(containersOf)) {
      if (c.image === image.name) c.image = `${image.newName ?? image.name}:${image.newTag ?? 'latest'}`;
    }
  }
  if (k.images) out.images = k.images;
  for (const { name, count } of k.replicas ?? []) {
    const deployment = out.manifests.find((m) => m.kind === 'Deployment' && m.metadata.name === name);
    if (!deployment?.spec) throw new Error(`${at}: replicas for a missing Deployment ${name}`);
    deployment.spec.replicas = count;
  }
  if (k.namespace) out.namespace = k.namespace;
  return out;
}

/** The pod a workload runs: Deployments and Jobs directly, CronJobs through their job template. */
export const podSpecOf = (m: Manifest): PodSpec | undefined =>
  m.kind === 'Deployment' || m.kind === 'Job'
    ? m.spec?.template?.spec
    : m.kind === 'CronJob'
      ? m.spec?.jobTemplate?.spec.template.spec
      : undefined;
export const podLabelsOf = (m: Manifest): Record<string, string> =>
  (m.kind === 'CronJob' ? m.spec?.jobTemplate?.spec.template.metadata?.labels : m.spec?.template?.metadata.labels) ??
  {};
export const containersOf = (m: Manifest): Container[] => podSpecOf(m)?.containers ?? [];
export const workloads = (r: Rendered) => r.manifests.filter((m) => podSpecOf(m) !== undefined);
export const find = (r: Rendered, kind: string, name: string) =>
  r.manifests.find((m) => m.kind === kind && m.metadata.name === name);

// ---------------------------------------------------------------------------------------------------------------
// NetworkPolicy semantics (networking.k8s.io/v1), for asking "may this pod reach that one on this port?".

/**
 * A pod as NetworkPolicies see it: its labels, its namespace's labels, and its named container ports; or an address
 * outside the cluster (`ip`, with namespace '').
 */
export interface Endpoint {
  namespace: string;
  labels: Record<string, string>;
  namespaceLabels?: Record<string, string>;
  ports?: Record<string, number>;
  ip?: string;
}

export function selects(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpressions = (selector.matchExpressions ?? []).every((e) => {
    if (e.operator === 'In') return e.values!.includes(labels[e.key]);
    if (e.operator === 'NotIn') return !e.values!.includes(labels[e.key]);
    if (e.operator === 'Exists') return e.key in labels;
    if (e.operator === 'DoesNotExist') return !(e.key in labels);
    throw new Error(`unknown selector operator ${e.operator}`);
  });
  return byLabels && byExpressions;
}

/** A workload's pods as an Endpoint in `namespace`. */
export function endpointOf(m: Manifest, namespace: string): Endpoint {
  const ports = containersOf(m).flatMap((c) => c.ports ?? []);
  return {
    namespace,
    labels: podLabelsOf(m),
    ports: Object.fromEntries(ports.filter((p) => p.name).map((p) => [p.name!, p.containerPort])),
  };
}

const namespaceLabelsOf = (e: Endpoint) => ({ 'kubernetes.io/metadata.name': e.namespace, ...e.namespaceLabels });

const ipv4 = (ip: string) => ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
function inCidr(ip: string, cidr: string): boolean {
  const [network, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  return Math.floor(ipv4(ip) / size) === Math.floor(ipv4(network) / size);
}

/** Whether `peer` names `other`, for a policy in `policyNamespace`. ipBlocks name addresses outside the cluster only. */
function peerMatches(peer: PolicyPeer, other: Endpoint, policyNamespace: string): boolean {
  if (peer.ipBlock) {
    const { cidr, except = [] } = peer.ipBlock;
    return other.ip !== undefined && inCidr(other.ip, cidr) && !except.some((e) => inCidr(other.ip!, e));
  }
  if (other.ip !== undefined) return false;
  if (peer.namespaceSelector) {
    return selects(peer.namespaceSelector, namespaceLabelsOf(other)) && selects(peer.podSelector, other.labels);
  }
  return other.namespace === policyNamespace && selects(peer.podSelector, other.labels);
}

function portMatches(ports: PolicyPort[] | undefined, target: Endpoint, port: number): boolean {
  if (!ports || ports.length === 0) return true;
  return ports.some((p) => {
    if ((p.protocol ?? 'TCP') !== 'TCP') return false;
    if (p.port === undefined) return true;
    const number = typeof p.port === 'string' ? target.ports?.[p.port] : p.port;
    return number !== undefined && number <= port && port <= (p.endPort ?? number);
  });
}

/**
 * Whether NetworkPolicies let `from` open a TCP connection to `to` on `port`: egress from `from` (if policies
 * isolate it) and ingress to `to` (if policies isolate it) must both admit it. An external address is an endpoint
 * with namespace '' and an `ip` label.
 */
export function allowsConnection(policies: Manifest[], from: Endpoint, to: Endpoint, port: number): boolean {
  const side = (type: 'Ingress' | 'Egress', self: Endpoint, other: Endpoint): boolean => {
    if (self.namespace === '') return true; // outside the cluster: no policy applies
    const applying = policies.filter(
      (p) =>
        (p.metadata.namespace ?? '') === self.namespace &&
        selects(p.spec!.podSelector, self.labels) &&
        (p.spec!.policyTypes ?? ['Ingress']).includes(type),
    );
    if (applying.length === 0) return true;
    return applying.some((p) =>
      ((type === 'Ingress' ? p.spec!.ingress : p.spec!.egress) ?? []).some((rule) => {
        const peers = type === 'Ingress' ? rule.from : rule.to;
        const peerOk = !peers || peers.length === 0 || peers.some((peer) => peerMatches(peer, other, self.namespace));
        return peerOk && portMatches(rule.ports, type === 'Ingress' ? self : other, port);
      }),
    );
  };
  return side('Egress', from, to) && side('Ingress', to, from);
}

/** The rendered NetworkPolicies, placed in the target's namespace (kustomize's `namespace:` does that). */
export function networkPoliciesOf(r: Rendered, namespace: string): Manifest[] {
  return r.manifests
    .filter((m) => m.kind === 'NetworkPolicy')
    .map((m) => ({ ...m, metadata: { ...m.metadata, namespace: m.metadata.namespace ?? namespace } }));
}
