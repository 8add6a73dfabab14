/**
 * Offline checks of deploy/k8s and the Dockerfile against the code they deploy: the mistakes that pass `kubectl
 * apply` and only show on a cluster. A misspelt or missing variable (the app falls back to a localhost default), a
 * port or probe path the app does not serve, a Secret nobody documented, a command the build does not produce, a
 * kustomization that forgets a file. Each target (the base and the example overlay) is rendered by the small model
 * of kustomize in kustomize.model.ts; the code's facts come from the code: env.ts for variables, SERVICES for ports,
 * the health controller's routes, the sources.
 */
import 'reflect-metadata';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { RequestMethod } from '@nestjs/common';
import { SERVICES, SERVICE_NAMES, ServiceName, envPrefixOf } from '@claimchain/config';
import { HealthModule } from '@claimchain/http';
import {
  Container,
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
import { LOAD_SERVICE_CONFIG } from './service-configs';
import { productionSourceOf, productionSourcesUnder } from './app-sources';

const ROOT = resolve(__dirname, '../..');
const K8S = __dirname;
const TARGETS = ['base', 'overlays/example', 'overlays/with-operators'];
const OPERATIONS_DOC = join(ROOT, 'docs/operations.md');
/** Where the targets are assumed applied, and the ingress controller as components/network-policies admits it. */
const NAMESPACE = 'claimchain';
const INGRESS_CONTROLLER = { namespace: 'ingress-nginx', labels: { 'app.kubernetes.io/name': 'ingress-nginx' } };

function deploymentOf(r: Rendered, service: ServiceName): { deployment: Manifest; container: Container } {
  const deployment = find(r, 'Deployment', service);
  if (!deployment) throw new Error(`no Deployment ${service}`);
  const container = containersOf(deployment).find((c) => c.name === service);
  if (!container) throw new Error(`Deployment ${service} has no container ${service}`);
  return { deployment, container };
}

// ---------------------------------------------------------------------------------------------------------------
// Facts from the code.

/**
 * Every variable a service reads (libs/config's shared ones and each app's own), found by watching each service's
 * configuration load from an empty environment.
 */
function schemaVariables(): string[] {
  const read = new Set<string>();
  for (const service of SERVICE_NAMES) {
    const scoped = `${envPrefixOf(service)}_`;
    const env = new Proxy({} as NodeJS.ProcessEnv, {
      get: (_target, key) => {
        if (typeof key === 'string' && !key.startsWith(scoped)) read.add(key);
        return undefined;
      },
    });
    try {
      LOAD_SERVICE_CONFIG[service](env);
    } catch {
      // a variable without a default: it was read all the same
    }
  }
  return [...read];
}
const VARIABLES = schemaVariables();
const SCOPED_PREFIXES = SERVICE_NAMES.map((s) => `${envPrefixOf(s)}_`);
/** `NAME` or `<SERVICE>_NAME` → `NAME` when the schema has it. */
function variableOf(envName: string): string | undefined {
  if (VARIABLES.includes(envName)) return envName;
  const prefix = SCOPED_PREFIXES.find((p) => envName.startsWith(p));
  return prefix && VARIABLES.includes(envName.slice(prefix.length)) ? envName.slice(prefix.length) : undefined;
}

/**
 * What a service cannot run in production without: variables whose defaults only work on a developer's machine,
 * and those the code needs at start. Each entry applies to the services whose code does what `when` matches; the
 * inner lists are alternatives.
 */
const PRODUCTION_NEEDS: { when: RegExp; variables: string[][]; why: string }[] = [
  { when: /./, variables: [['HOST'], ['DATABASE_URL'], ['KAFKA_BROKERS']], why: 'the defaults are 127.0.0.1' },
  {
    when: /AuthModule\.forRoot\(/,
    variables: [['AUTH_JWKS_URL', 'AUTH_JWKS_FILE'], ['AUTH_ISSUER'], ['AUTH_AUDIENCE']],
    why: 'the defaults are the local dev identity provider',
  },
  { when: /\.pseudonymKey\b/, variables: [['PSEUDONYM_KEY']], why: 'the default key is public' },
  {
    when: /MessagingModule\.forRoot\(/,
    variables: [['EVENT_SIGNING_KEY_FILE'], ['EVENT_VERIFIER_KEYS']],
    why: 'unsigned events are dead-lettered by every consumer (ADR 18)',
  },
  {
    when: /\.signingKeyFile\b/,
    variables: [['LEDGER_SIGNING_KEY_FILE'], ['LEDGER_ORIGIN']],
    why: 'no key, no checkpoints',
  },
  { when: /ledger\.saltKeyFile\b/, variables: [['LEDGER_SALT_KEY_FILE']], why: 'the default salt key is public' },
  { when: /ledger\.verifierKey\b/, variables: [['LEDGER_VERIFIER_KEY']], why: 'unset, payout trusts any checkpoint' },
  { when: /ledger\.url\b/, variables: [['LEDGER_URL']], why: 'the default is 127.0.0.1' },
  { when: /\.webhookSecretKey\b/, variables: [['WEBHOOK_SECRET_KEY']], why: 'the default key is public' },
];
function productionNeeds(service: ServiceName): string[][] {
  const source = productionSourceOf(service);
  return PRODUCTION_NEEDS.filter((n) => n.when.test(source)).flatMap((n) => n.variables);
}

/** GET routes of the shared health controller, by handler name, from Nest's route metadata. */
function healthRoutes(): Record<string, string> {
  const controller = HealthModule.forRoot(Symbol('probes')).controllers?.[0] as
    (abstract new (...args: never[]) => unknown) | undefined;
  if (!controller) throw new Error('HealthModule mounts no controller');
  const prefix = Reflect.getMetadata('path', controller) as string;
  const routes: Record<string, string> = {};
  const proto = controller.prototype as Record<string, unknown>;
  for (const name of Object.getOwnPropertyNames(proto)) {
    const handler = proto[name];
    if (name === 'constructor' || typeof handler !== 'function') continue;
    const path = Reflect.getMetadata('path', handler) as string | undefined;
    if (path !== undefined && Reflect.getMetadata('method', handler) === RequestMethod.GET) {
      routes[name] = `/${[prefix, path].join('/')}`.replace(/\/+/g, '/');
    }
  }
  return routes;
}

/** The sources `npm run build` compiles (tsconfig.build.json), as repository paths. */
function isBuilt(sourcePath: string): boolean {
  const build = JSON.parse(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8')) as { include: string[] };
  const roots = build.include.map((pattern) => pattern.split('/')[0]);
  return (
    roots.includes(sourcePath.split('/')[0]) &&
    !/(^|\/)test\/|\.spec\.ts$|^libs\/testing\/|^tools\/.*\/testing\//.test(sourcePath) &&
    existsSync(join(ROOT, sourcePath))
  );
}
/** `dist/x/y.js` or `dist/x/y` (a directory's index) → the compiled source, if the build has one. */
function sourceOfBuilt(distPath: string): string | undefined {
  const path = distPath.replace(/^\.\//, '').replace(/^dist\//, '');
  const candidates = path.endsWith('.js') ? [path.replace(/\.js$/, '.ts')] : [`${path}.ts`, `${path}/index.ts`];
  return candidates.find(isBuilt);
}

// Placeholders of the right shape for values the operator provides (Secrets, operator ConfigMaps).
const OPERATOR_VALUES: Record<string, string> = {
  DATABASE_URL: 'postgres://claimchain:secret@postgres.example:5432/postgres?sslmode=require',
  WEBHOOK_SECRET_KEY: 'operator-provided-key-of-at-least-32-characters',
  LEDGER_VERIFIER_KEY: `claimchain.example/ledger+0a1b2c3d+${Buffer.alloc(33, 1).toString('base64')}`,
  EVENT_VERIFIER_KEYS:
    'claim-intake+d1ade678+ATh1pm7lJGY6pMMTDm6Pk9Y1g3AIwVz4iqAHvEa1g9M1,treatment-verification+d1b000d0+Adm5GJpXSGyHOMd9JmxcN7tPoKmROhbaucQddnjZCynG,ledger-anchoring+8b13e999+AWcxTx0Ghq+8/OgTZ8K3vydzIcC8wL3VyD5B+mgQ8f2c,payout+54d426f8+ARBCcHEaj6jQVvp6Fh2MxsmH/SJ434SxidIIRY+dNSYU',
};
const OPERATOR_VALUE = 'operator-provided-value-of-sufficient-length';

/** The environment a container starts with, secrets replaced by placeholders; undefined for refs to nothing. */
function environmentOf(r: Rendered, c: Container): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const from of c.envFrom ?? []) Object.assign(env, r.configMaps.get(from.configMapRef?.name ?? ''));
  for (const e of c.env ?? []) {
    const cm = e.valueFrom?.configMapKeyRef;
    if (e.value !== undefined) env[e.name] = e.value;
    else if (cm && r.configMaps.has(cm.name)) env[e.name] = r.configMaps.get(cm.name)?.[cm.key];
    else env[e.name] = OPERATOR_VALUES[variableOf(e.name) ?? ''] ?? OPERATOR_VALUE;
  }
  return env;
}

interface Reference {
  kind: 'Secret' | 'ConfigMap';
  name: string;
  /** Undefined when the whole object is read (envFrom, a volume without items). */
  key?: string;
  at: string;
}

/** Every Secret and ConfigMap key a workload reads, with where. */
function referencesOf(r: Rendered): Reference[] {
  const refs: Reference[] = [];
  for (const m of workloads(r)) {
    const at = `${m.kind}/${m.metadata.name}`;
    const spec = podSpecOf(m)!;
    for (const c of spec.containers) {
      for (const e of c.env ?? []) {
        if (e.valueFrom?.secretKeyRef) refs.push({ kind: 'Secret', ...e.valueFrom.secretKeyRef, at });
        if (e.valueFrom?.configMapKeyRef) refs.push({ kind: 'ConfigMap', ...e.valueFrom.configMapKeyRef, at });
      }
      for (const f of c.envFrom ?? []) {
        if (f.configMapRef) refs.push({ kind: 'ConfigMap', name: f.configMapRef.name, at });
        if (f.secretRef) refs.push({ kind: 'Secret', name: f.secretRef.name, at });
      }
    }
    for (const v of spec.volumes ?? []) {
      const source = v.secret
        ? { kind: 'Secret' as const, name: v.secret.secretName, items: v.secret.items }
        : v.configMap && { kind: 'ConfigMap' as const, name: v.configMap.name, items: v.configMap.items };
      if (!source) continue;
      for (const item of source.items ?? [{ key: undefined }]) {
        refs.push({ kind: source.kind, name: source.name, key: item.key, at });
      }
    }
  }
  return refs;
}

const commandOf = (c: Container) => [...(c.command ?? []), ...(c.args ?? [])].join('\n');

function dockerfile(): { user: string; entrypoint: string[]; cmd: string[]; copied: string[] } {
  const lines = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').split('\n');
  const instruction = (name: string) =>
    lines.filter((l) => l.startsWith(`${name} `)).map((l) => l.slice(name.length + 1));
  return {
    user: instruction('USER').at(-1) ?? 'root',
    entrypoint: JSON.parse(instruction('ENTRYPOINT').at(-1) ?? '[]') as string[],
    cmd: JSON.parse(instruction('CMD').at(-1) ?? '[]') as string[],
    copied: instruction('COPY')
      .filter((args) => !args.startsWith('--from'))
      .flatMap((args) => args.split(/\s+/).slice(0, -1)),
  };
}

// ---------------------------------------------------------------------------------------------------------------

describe('deploy/k8s', () => {
  it('every kustomization lists each file and directory beside it, and only ones that exist', () => {
    const dirs = (function walk(dir: string): string[] {
      const subdirs = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory());
      return [dir, ...subdirs.flatMap((e) => walk(join(dir, e.name)))];
    })(K8S).filter((dir) => existsSync(join(dir, 'kustomization.yaml')));
    expect(dirs.map((d) => relative(K8S, d))).toEqual(expect.arrayContaining(TARGETS));
    for (const dir of dirs) {
      const k = readDocs<Kustomization>(join(dir, 'kustomization.yaml'))[0];
      const listed = [
        ...(k.resources ?? []),
        ...(k.components ?? []),
        ...(k.patches ?? []).map((p) => p.path),
        ...(k.configMapGenerator ?? []).flatMap((g) => [...(g.envs ?? []), ...(g.files ?? [])]),
      ];
      for (const entry of listed)
        expect({ dir, entry, exists: existsSync(join(dir, entry)) }).toMatchObject({ exists: true });
      const local = listed.filter((e) => !e.startsWith('..')).map((e) => e.split('/')[0]);
      const present = readdirSync(dir).filter(
        (f) => !['kustomization.yaml', 'README.md'].includes(f) && !f.endsWith('.ts'),
      );
      expect({ dir: relative(K8S, dir), unlisted: present.filter((f) => !local.includes(f)) }).toEqual({
        dir: relative(K8S, dir),
        unlisted: [],
      });
    }
  });

  it('the Dockerfile builds from everything the build compiles, and .dockerignore keeps none of it out', () => {
    const build = JSON.parse(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8')) as { include: string[] };
    const roots = [...new Set(build.include.map((pattern) => pattern.split('/')[0]))];
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith('#'));
    const { copied, cmd } = dockerfile();
    for (const needed of [...roots, 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json']) {
      expect({ needed, copied: copied.includes(needed), ignored: ignored.includes(needed) }).toEqual({
        needed,
        copied: true,
        ignored: false,
      });
    }
    expect(cmd[0]).toBe('-e'); // without a command the image says what to run instead of starting one service
  });

  describe.each(TARGETS)('%s', (target) => {
    const rendered = render(join(K8S, target));

    it('runs one Deployment, Service and PodDisruptionBudget per service and a migration Job for each database', () => {
      expect(
        rendered.manifests
          .filter((m) => m.kind === 'Deployment')
          .map((m) => m.metadata.name)
          .sort(),
      ).toEqual([...SERVICE_NAMES].sort());
      for (const service of SERVICE_NAMES) {
        const { deployment } = deploymentOf(rendered, service);
        const pods = deployment.spec!.template!.metadata.labels;
        const selects = (selector: Record<string, string> | undefined) =>
          Object.entries(selector ?? {}).every(([k, v]) => pods[k] === v) && Object.keys(selector ?? {}).length > 0;
        expect(selects(find(rendered, 'Service', service)?.spec?.selector as Record<string, string>)).toBe(true);
        const pdb = rendered.manifests.find(
          (m) => m.kind === 'PodDisruptionBudget' && selects(m.spec?.selector?.matchLabels),
        );
        expect({ service, pdb: pdb?.metadata.name }).toEqual({ service, pdb: service });
        expect(deployment.spec!.strategy?.rollingUpdate?.maxUnavailable).toBe(0);

        // The migration Job: this service's migrations, on the database its Deployment uses.
        const migrates = (c: Container) => c.args?.[0] === 'dist/scripts/migrate.js';
        const jobs = rendered.manifests.filter((m) => m.kind === 'Job' && containersOf(m).some(migrates));
        const job = jobs.find((j) => containersOf(j).some((c) => migrates(c) && c.args?.[1] === service));
        expect({ service, job: job?.metadata.name }).toEqual({ service, job: expect.any(String) });
        const databaseRef = (c: Container) => c.env?.find((e) => e.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef;
        expect(databaseRef(containersOf(job!)[0])).toEqual(databaseRef(deploymentOf(rendered, service).container));
      }
    });

    it('sets only variables that libs/config/src/env.ts defines', () => {
      for (const m of workloads(rendered)) {
        for (const c of containersOf(m)) {
          const names = [
            ...(c.env ?? []).map((e) => e.name),
            ...(c.envFrom ?? []).flatMap((f) => {
              // A Secret's keys would be invisible here and a missing one silently falls back to a default.
              expect({ at: m.metadata.name, secretRef: f.secretRef }).toEqual({ at: m.metadata.name });
              const data = rendered.configMaps.get(f.configMapRef?.name ?? '');
              expect({ at: m.metadata.name, configMap: f.configMapRef?.name, known: data !== undefined }).toMatchObject(
                {
                  known: true,
                },
              );
              return Object.keys(data ?? {});
            }),
          ];
          expect({ at: `${m.kind}/${m.metadata.name}`, unknown: names.filter((n) => !variableOf(n)) }).toEqual({
            at: `${m.kind}/${m.metadata.name}`,
            unknown: [],
          });
        }
      }
    });

    it.each(SERVICE_NAMES)(
      '%s: its configuration loads, listens on its Service port and sets what production needs',
      (service) => {
        const { container } = deploymentOf(rendered, service);
        const env = environmentOf(rendered, container);
        // As in the image (NODE_ENV=production), where a service refuses the dev-only defaults.
        const config = LOAD_SERVICE_CONFIG[service]({ NODE_ENV: 'production', ...env });
        expect(['0.0.0.0', '::']).toContain(config.host);
        expect(config.port).toBe(SERVICES[service].port);
        const given = (name: string) => [name, `${envPrefixOf(service)}_${name}`].some((n) => !!env[n]);
        const missing = productionNeeds(service).filter((alternatives) => !alternatives.some(given));
        expect({ service, missing }).toEqual({ service, missing: [] });
        // Service-to-service URLs name the Service and its port.
        for (const [name, value] of Object.entries(env)) {
          const host = value && /^https?:\/\//.test(value) ? new URL(value).hostname : undefined;
          if (host && host in SERVICES) {
            expect({ name, port: Number(new URL(value!).port) }).toEqual({
              name,
              port: SERVICES[host as ServiceName].port,
            });
            expect(find(rendered, 'Service', host)).toBeDefined();
          }
        }
      },
    );

    it('gives the ledger signing key file, from a Secret, to the services that sign and to no other', () => {
      for (const service of SERVICE_NAMES) {
        const { deployment, container } = deploymentOf(rendered, service);
        const file = container.env?.find((e) => variableOf(e.name) === 'LEDGER_SIGNING_KEY_FILE')?.value;
        const signs = productionNeeds(service).some((v) => v.includes('LEDGER_SIGNING_KEY_FILE'));
        expect({ service, hasKeyFile: file !== undefined }).toEqual({ service, hasKeyFile: signs });
        if (!file) continue;
        const mount = container.volumeMounts?.find((vm) => file.startsWith(`${vm.mountPath}/`));
        expect(mount?.readOnly).toBe(true);
        const volume = deployment.spec!.template!.spec.volumes?.find((v) => v.name === mount?.name);
        expect(volume?.secret?.items?.map((i) => i.path)).toEqual([basename(file)]);
      }
    });

    it("gives each service its own event signing key, from a Secret of its own, and every producer's verifier key", () => {
      const secrets = new Set<string>();
      for (const service of SERVICE_NAMES) {
        const { deployment, container } = deploymentOf(rendered, service);
        const file = container.env?.find((e) => variableOf(e.name) === 'EVENT_SIGNING_KEY_FILE')?.value;
        expect({ service, file }).toEqual({ service, file: expect.any(String) });
        const mount = container.volumeMounts?.find((vm) => file!.startsWith(`${vm.mountPath}/`));
        expect(mount?.readOnly).toBe(true);
        const volume = deployment.spec!.template!.spec.volumes?.find((v) => v.name === mount?.name);
        expect(volume?.secret?.items?.map((i) => i.path)).toEqual([basename(file!)]);
        secrets.add(`${volume!.secret!.secretName}/${volume!.secret!.items![0].key}`);
        const keys = environmentOf(rendered, container).EVENT_VERIFIER_KEYS ?? '';
        const names = keys.split(',').map((k) => k.split('+')[0]);
        expect({ service, names: [...new Set(names)].sort() }).toEqual({ service, names: [...SERVICE_NAMES].sort() });
      }
      expect(secrets.size).toBe(SERVICE_NAMES.length);
    });

    it('puts each container and Service on the port of the SERVICES table, and metrics on the port the app reads', () => {
      for (const service of SERVICE_NAMES) {
        const { container } = deploymentOf(rendered, service);
        // The metrics port is the one the process will listen on given the container's environment (METRICS_PORT).
        const { metricsPort } = LOAD_SERVICE_CONFIG[service]({
          NODE_ENV: 'production',
          ...environmentOf(rendered, container),
        });
        expect(metricsPort).not.toBe(SERVICES[service].port);
        expect(container.ports).toEqual([
          { name: 'http', containerPort: SERVICES[service].port },
          { name: 'metrics', containerPort: metricsPort },
        ]);
        expect(find(rendered, 'Service', service)?.spec?.ports).toEqual([
          expect.objectContaining({ port: SERVICES[service].port, targetPort: 'http' }),
          expect.objectContaining({ name: 'metrics', port: metricsPort, targetPort: 'metrics' }),
        ]);
      }
      // The NetworkPolicies let the ingress controller reach every service's HTTP port.
      const policies = networkPoliciesOf(rendered, NAMESPACE);
      expect(policies.length).toBeGreaterThan(0);
      for (const service of SERVICE_NAMES) {
        const to = endpointOf(deploymentOf(rendered, service).deployment, NAMESPACE);
        const port = SERVICES[service].port;
        expect({ service, admitted: allowsConnection(policies, INGRESS_CONTROLLER, to, port) }).toEqual({
          service,
          admitted: true,
        });
      }
    });

    it('probes routes the services serve: readiness the database check, liveness and startup the process', () => {
      const routes = healthRoutes();
      // pipeline (Kafka included) is for alerting and the launcher, never a probe: see docs/operations.md.
      expect(Object.keys(routes).sort()).toEqual(['live', 'pipeline', 'ready']);
      // A global prefix or versioning would move every route, the probes' too.
      const edge = [...productionSourcesUnder(join(ROOT, 'libs')), ...productionSourcesUnder(join(ROOT, 'apps'))]
        .filter((f) => /setGlobalPrefix\(|enableVersioning\(/.test(readFileSync(f, 'utf8')))
        .map((f) => relative(ROOT, f));
      expect(edge).toEqual([]);
      for (const service of SERVICE_NAMES) {
        expect({ service, mountsHealth: /HealthModule\.forRoot\(/.test(productionSourceOf(service)) }).toEqual({
          service,
          mountsHealth: true,
        });
        const { container } = deploymentOf(rendered, service);
        expect(container.readinessProbe?.httpGet).toEqual({ path: routes.ready, port: 'http' });
        expect(container.livenessProbe?.httpGet).toEqual({ path: routes.live, port: 'http' });
        expect(container.startupProbe?.httpGet).toEqual({ path: routes.live, port: 'http' });
      }
    });

    it('reads Secrets and ConfigMaps defined here or listed for the operator in docs/operations.md', () => {
      const doc = readFileSync(OPERATIONS_DOC, 'utf8').split('\n');
      const documented = (name: string, key?: string) =>
        doc.some((line) => line.includes(`\`${name}\``) && (key === undefined || line.includes(`\`${key}\``)));
      const refs = referencesOf(rendered);
      expect(refs.length).toBeGreaterThan(0);
      for (const ref of refs) {
        const data = ref.kind === 'ConfigMap' ? rendered.configMaps.get(ref.name) : undefined;
        const ok = data ? ref.key === undefined || ref.key in data : documented(ref.name, ref.key);
        expect({ ...ref, definedOrDocumented: ok }).toEqual({ ...ref, definedOrDocumented: true });
      }
    });

    it('runs files the build produces, from one image', () => {
      const images = new Set(workloads(rendered).flatMap((m) => containersOf(m).map((c) => c.image)));
      expect(images.size).toBe(1);
      if (target === 'base') expect([...images]).toEqual(['claimchain']);
      else expect(rendered.images?.map((i) => i.name)).toEqual(['claimchain']);
      const { entrypoint } = dockerfile();
      expect(entrypoint).toEqual(['node']);
      for (const m of workloads(rendered)) {
        for (const c of containersOf(m)) {
          expect({ at: m.metadata.name, command: c.command }).toEqual({ at: m.metadata.name }); // the image's node
          const paths = commandOf(c).match(/(?:\.\/)?dist\/[\w./-]+/g) ?? [];
          expect(paths.length).toBeGreaterThan(0);
          for (const path of paths)
            expect({ path, source: sourceOfBuilt(path) }).toEqual({ path, source: expect.any(String) });
          // What an inline script takes from a built module is exported by its source.
          for (const [, names, path] of commandOf(c).matchAll(/const \{([^}]+)\} = require\('([^']+)'\)/g)) {
            const exported = require(join(ROOT, sourceOfBuilt(path)!)) as Record<string, unknown>; // eslint-disable-line @typescript-eslint/no-require-imports
            for (const name of names.split(',').map((n) => n.trim())) {
              expect({ path, name, type: typeof exported[name] }).toEqual({ path, name, type: 'function' });
            }
          }
        }
      }
      for (const service of SERVICE_NAMES) {
        expect(deploymentOf(rendered, service).container.args).toEqual([`dist/apps/${service}/src/main.js`]);
      }
    });

    it("sets payout's contract worker threads explicitly, within its CPU limit (ADR 17)", () => {
      // Unset, the pool follows availableParallelism(), which in a container counts the node's cores, not the pod's.
      const { container } = deploymentOf(rendered, 'payout');
      const workers = Number(container.env?.find((e) => e.name === 'ADJUDICATION_WORKERS')?.value);
      const limit = container.resources?.limits?.cpu ?? '';
      const cores = limit.endsWith('m') ? Number(limit.slice(0, -1)) / 1000 : Number(limit);
      expect(Number.isInteger(workers) && workers >= 1).toBe(true);
      expect({ workers, limit }).toEqual({ workers: Math.max(1, Math.floor(cores)), limit });
    });

    it('runs hardened pods with bounded resources and a shutdown that fits the grace period', () => {
      const uid = Number(dockerfile().user.split(':')[0]);
      expect(uid).toBeGreaterThan(0);
      for (const m of workloads(rendered)) {
        const pod = podSpecOf(m)!;
        const at = `${m.kind}/${m.metadata.name}`;
        // Service links would set <SERVICE>_PORT=tcp://..., which env.ts reads as that service's port.
        expect({ at, enableServiceLinks: pod.enableServiceLinks }).toEqual({ at, enableServiceLinks: false });
        expect({ at, automount: pod.automountServiceAccountToken }).toEqual({ at, automount: false });
        expect({ at, ...pod.securityContext }).toMatchObject({ at, runAsNonRoot: true, runAsUser: uid });
        for (const c of pod.containers) {
          expect({ at, ...c.securityContext }).toMatchObject({
            at,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          });
          expect({ at, ...c.resources }).toMatchObject({
            at,
            requests: { cpu: expect.any(String), memory: expect.any(String) },
            limits: { memory: expect.any(String) },
          });
        }
        if (m.kind === 'Deployment') {
          const [c] = pod.containers;
          const [sleep, seconds] = c.lifecycle?.preStop?.exec?.command ?? [];
          expect(sleep).toBe('sleep');
          // After the preStop pause the app drains HTTP, the outbox relay's batch and the consumer group.
          expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(Number(seconds) + 30);
        }
      }
    });
  });
});
