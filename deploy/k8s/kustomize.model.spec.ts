/**
 * The kustomize and NetworkPolicy model the manifests' specs stand on: if it rendered or evaluated differently from
 * kustomize and the cluster, their checks would pass or fail for the wrong reason. Each case is the documented
 * behaviour of kustomize (components, strategic merge) or of networking.k8s.io/v1 NetworkPolicy.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Endpoint, Manifest, allowsConnection, render, strategicMerge } from './kustomize.model';

describe('kustomize model', () => {
  let root: string;
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'kustomize-model-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));
  const write = (path: string, text: string) => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  const deployment = `apiVersion: apps/v1
kind: Deployment
metadata: { name: app }
spec:
  replicas: 2
  template:
    metadata: { labels: { app: app } }
    spec:
      containers:
        - name: app
          image: app
          env: [{ name: A, valueFrom: { secretKeyRef: { name: s, key: k } } }]
`;

  it('applies a component to what the including kustomization gathered, before its own generators', () => {
    write(
      'base/kustomization.yaml',
      'resources: [deployment.yaml]\nconfigMapGenerator: [{ name: c, literals: [X=1] }]',
    );
    write('base/deployment.yaml', deployment);
    write(
      'component/kustomization.yaml',
      'apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\npatches: [{ path: p.yaml }]\n' +
        'configMapGenerator: [{ name: c, behavior: merge, literals: [X=2, Y=2] }]',
    );
    write(
      'component/p.yaml',
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: app }\nspec: { replicas: null }',
    );
    write(
      'overlay/kustomization.yaml',
      'resources: [../base]\ncomponents: [../component]\nconfigMapGenerator: [{ name: c, behavior: merge, literals: [Y=3] }]',
    );
    const r = render(join(root, 'overlay'));
    expect(r.manifests[0].spec).not.toHaveProperty('replicas');
    expect(r.configMaps.get('c')).toEqual({ X: '2', Y: '3' });
  });

  it('refuses a component under resources, and a kustomization field it does not model', () => {
    write('component/kustomization.yaml', 'kind: Component');
    write('a/kustomization.yaml', 'resources: [../component]');
    expect(() => render(join(root, 'a'))).toThrow(/Component must be listed under components/);
    write('b/kustomization.yaml', 'resources: []\nnamePrefix: x-');
    expect(() => render(join(root, 'b'))).toThrow(/does not render namePrefix/);
  });

  it('deletes an object with $patch: delete; a target patch may match nothing, a named one must match', () => {
    write('k/deployment.yaml', deployment);
    write('k/delete.yaml', '$patch: delete\napiVersion: apps/v1\nkind: Deployment\nmetadata: { name: app }');
    write('k/cron.yaml', 'apiVersion: batch/v1\nkind: CronJob\nmetadata: { name: nope }\nspec: { schedule: x }');
    write(
      'k/kustomization.yaml',
      'resources: [deployment.yaml]\npatches: [{ path: cron.yaml, target: { kind: CronJob } }]',
    );
    expect(render(join(root, 'k')).manifests).toHaveLength(1);
    write('k/kustomization.yaml', 'resources: [deployment.yaml]\npatches: [{ path: cron.yaml }]');
    expect(() => render(join(root, 'k'))).toThrow(/patches a missing CronJob\/nope/);
    write('k/kustomization.yaml', 'resources: [deployment.yaml]\npatches: [{ path: delete.yaml }]');
    expect(render(join(root, 'k')).manifests).toEqual([]);
  });

  it('merges named lists by name in Kubernetes kinds, replaces lists whole in custom resources, drops nulls', () => {
    const base = {
      env: [
        { name: 'A', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
        { name: 'B', value: 'b' },
      ],
    };
    const patch = { env: [{ name: 'A', value: 'a', valueFrom: null }] };
    expect(strategicMerge(base, patch)).toEqual({
      env: [
        { name: 'A', value: 'a' },
        { name: 'B', value: 'b' },
      ],
    });
    const crdPatch = { env: [{ name: 'A', value: 'a' }] };
    expect(strategicMerge(base, crdPatch, false)).toEqual(crdPatch);
  });
});

describe('NetworkPolicy model', () => {
  const policy = (spec: Manifest['spec']): Manifest => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'p', namespace: 'ns' },
    spec,
  });
  const web: Endpoint = { namespace: 'ns', labels: { app: 'web' }, ports: { http: 8080 } };
  const db: Endpoint = { namespace: 'ns', labels: { app: 'db' } };
  const monitor: Endpoint = { namespace: 'mon', labels: { app: 'prom' } };

  it('allows everything to a pod no policy selects, and nothing but what a selecting policy admits', () => {
    expect(allowsConnection([], db, web, 8080)).toBe(true);
    const admitDb = policy({
      podSelector: { matchLabels: { app: 'web' } },
      ingress: [{ from: [{ podSelector: { matchLabels: { app: 'db' } } }], ports: [{ port: 'http' }] }],
    });
    expect(allowsConnection([admitDb], db, web, 8080)).toBe(true); // the named port resolves on the target
    expect(allowsConnection([admitDb], db, web, 9090)).toBe(false);
    expect(allowsConnection([admitDb], monitor, web, 8080)).toBe(false); // a bare podSelector: own namespace only
    expect(allowsConnection([admitDb], web, db, 5432)).toBe(true); // db is not selected
  });

  it('needs both sides: the source’s egress and the target’s ingress', () => {
    const denyEgress = policy({ podSelector: { matchLabels: { app: 'db' } }, policyTypes: ['Egress'] });
    expect(allowsConnection([denyEgress], db, web, 8080)).toBe(false);
    expect(allowsConnection([denyEgress], web, db, 5432)).toBe(true);
  });

  it('ANDs a namespaceSelector with the podSelector of the same peer', () => {
    const fromMonitoring = policy({
      podSelector: {},
      ingress: [
        {
          from: [
            {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'mon' } },
              podSelector: { matchLabels: { app: 'prom' } },
            },
          ],
        },
      ],
    });
    expect(allowsConnection([fromMonitoring], monitor, web, 8080)).toBe(true);
    expect(allowsConnection([fromMonitoring], { ...monitor, labels: { app: 'other' } }, web, 8080)).toBe(false);
    expect(allowsConnection([fromMonitoring], { ...monitor, namespace: 'x' }, web, 8080)).toBe(false);
  });

  it('matches ipBlocks to addresses outside the cluster, minus their exceptions', () => {
    const out = policy({
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }], ports: [{ port: 443 }] }],
    });
    const at = (ip: string): Endpoint => ({ namespace: '', labels: {}, ip });
    expect(allowsConnection([out], web, at('203.0.113.7'), 443)).toBe(true);
    expect(allowsConnection([out], web, at('10.9.8.7'), 443)).toBe(false);
    expect(allowsConnection([out], web, at('203.0.113.7'), 80)).toBe(false);
    expect(allowsConnection([out], web, db, 443)).toBe(false); // a pod is not an ipBlock address
  });
});
