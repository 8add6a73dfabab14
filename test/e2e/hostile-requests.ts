import Ajv, { ValidateFunction } from 'ajv';
import fc from 'fast-check';
import { v4 as uuidv4 } from 'uuid';

/**
 * Hostile HTTP requests generated from a service's OpenAPI document (fast-check arbitraries), for the property that
 * no input reaches a 5xx. Every request is wrong in at least one way the service must refuse: a value the document
 * itself says is invalid (checked with ajv against the documented schema, so the property holds the service to its
 * document), a token it must not accept, an id that is not the caller's, or a URL no route can take.
 */

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  enum?: unknown[];
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
}

interface OpenApiParameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema: JsonSchema;
}

interface OpenApiOperation {
  security?: Record<string, string[]>[];
  parameters?: OpenApiParameter[];
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, { description?: string }>;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
}

/** One endpoint as the document describes it. */
export interface Endpoint {
  method: string;
  path: string;
  /** The roles its 403 names; empty for a public endpoint. */
  roles: string[];
  pathParams: string[];
  query: OpenApiParameter[];
  idempotencyKey: boolean;
  body?: JsonSchema;
}

export function endpointsOf(doc: OpenApiDocument): Endpoint[] {
  return Object.entries(doc.paths).flatMap(([path, operations]) =>
    Object.entries(operations).map(([method, op]) => {
      const parameters = op.parameters ?? [];
      const secured = (op.security ?? []).length > 0;
      const roles = /for roles: (\w+(?:, \w+)*)/.exec(op.responses['403']?.description ?? '')?.[1].split(', ') ?? [];
      if (secured && roles.length === 0) throw new Error(`${method} ${path} is secured but names no roles`);
      return {
        method: method.toUpperCase(),
        path,
        roles: secured ? roles : [],
        pathParams: parameters.filter((p) => p.in === 'path').map((p) => p.name),
        query: parameters.filter((p) => p.in === 'query'),
        idempotencyKey: parameters.some((p) => p.in === 'header' && p.name.toLowerCase() === 'idempotency-key'),
        body: op.requestBody?.content['application/json']?.schema,
      };
    }),
  );
}

/** A request to send; `body` is either a value to send as JSON or raw text. */
export interface HostileRequest {
  attack: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: { json: unknown } | { raw: string };
}

/** What the generator needs from the running system: tokens and other tenants' ids. */
export interface Callers {
  /** A valid bearer header for a role, of a tenant that owns none of `foreignIds`. */
  valid(role: string): string;
  /** Bearer headers no endpoint may accept, by what is wrong with them. */
  invalid: Record<string, string>;
  /** Ids of another tenant's claims, contracts, policies and confirmations. */
  foreignIds: string[];
}

const ajv = new Ajv({ strict: false, allErrors: false, coerceTypes: false });
ajv.addFormat('uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
ajv.addFormat('date-time', (s: string) => /^\d{4}-\d\d-\d\dT/.test(s) && !Number.isNaN(Date.parse(s)));
ajv.addFormat('uri', (s: string) => URL.canParse(s));
const queryAjv = new Ajv({ strict: false, coerceTypes: 'array' });
queryAjv.addFormat('uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
queryAjv.addFormat('date-time', (s: string) => /^\d{4}-\d\d-\d\dT/.test(s) && !Number.isNaN(Date.parse(s)));
const validators = new WeakMap<JsonSchema, ValidateFunction>();

/** Whether the document's schema admits `value`: the property keeps only values it does not. */
function admits(schema: JsonSchema, value: unknown, validator = ajv): boolean {
  let validate = validator === ajv ? validators.get(schema) : undefined;
  if (!validate) {
    validate = validator.compile(asDraft7(schema) as object);
    if (validator === ajv) validators.set(schema, validate);
  }
  return validate(value);
}

/** OpenAPI 3.0's schema dialect as JSON Schema draft 7 (ajv's): a boolean exclusiveMinimum/Maximum, nullable. */
function asDraft7(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(asDraft7);
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    out[key] = key === 'enum' ? value : asDraft7(value);
  }
  for (const [exclusive, bound] of [
    ['exclusiveMinimum', 'minimum'],
    ['exclusiveMaximum', 'maximum'],
  ]) {
    if (typeof out[exclusive] === 'boolean') {
      if (out[exclusive]) out[exclusive] = out[bound];
      else delete out[exclusive];
      if (out[exclusive] !== undefined) delete out[bound];
    }
  }
  if (out.nullable === true && typeof out.type === 'string') out.type = [out.type, 'null'];
  delete out.nullable;
  return out;
}

/** Text that trips parsers and validators: direction overrides, zero-width, look-alikes, lone surrogates, NUL. */
const ODD_TEXT = [
  '\u202eevil',
  'a\u200bb',
  'ＡＢＣ１２３',
  '２０２６-０２-３０',
  '🏥💉'.repeat(50),
  'e\u0301'.repeat(300),
  '\ud800',
  'x\udc00y',
  '\u0000',
  '\ufeff',
  'null',
  '../../etc/passwd',
  "' OR 1=1 --",
  '%00',
  '${jndi:ldap://x}',
  '<script>alert(1)</script>',
  ' ',
  '',
];

const oddString = fc.oneof(
  fc.constantFrom(...ODD_TEXT),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

/** A JSON value of any type: wrong for almost every schema. */
const anyJson = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, 1e308, -1e-308, 2 ** 31, Number.MAX_SAFE_INTEGER + 2, [], {}, [null]),
  oddString,
  fc.jsonValue({ maxDepth: 3 }),
);

/** A value nested deeper than any service reads: 100 to 3,000 levels of objects and arrays. */
const deeplyNested = fc
  .record({ depth: fc.integer({ min: 100, max: 3_000 }), array: fc.boolean() })
  .map(({ depth, array }) => {
    let value: unknown = 1;
    for (let i = 0; i < depth; i += 1) value = array ? [value] : { not: value };
    return value;
  });

const typeOf = (schema: JsonSchema): string[] =>
  schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];

/** A plausible value for a schema (not always a valid one): the benign rest of a request around its one attack. */
export function plausible(schema: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  const branches = schema.anyOf ?? schema.oneOf ?? schema.allOf;
  if (branches?.length) return fc.oneof(...branches.map((b) => plausible(b, depth)));
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const [type] = typeOf(schema);
  switch (type) {
    case 'string':
      return plausibleString(schema);
    case 'integer':
      return fc.integer({ min: schema.minimum ?? 0, max: schema.maximum ?? 1000 });
    case 'number':
      return fc.double({ min: schema.minimum ?? 0, max: schema.maximum ?? 1000, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'array': {
      if (!schema.items || depth > 6) return fc.constant([]);
      const min = schema.minItems ?? 0;
      return fc.array(plausible(schema.items, depth + 1), { minLength: min, maxLength: Math.min(min + 2, 3) });
    }
    case 'object': {
      if (depth > 6) return fc.constant({});
      const required = new Set(schema.required ?? []);
      // Required members always, optional ones now and then: the claim's R4 schema has hundreds.
      const members = Object.entries(schema.properties ?? {}).filter(([k]) => required.has(k) || k.length % 7 === 0);
      return fc.record(Object.fromEntries(members.map(([k, s]) => [k, plausible(s, depth + 1)])), {
        requiredKeys: [...required].filter((k) => schema.properties?.[k]),
      });
    }
    default:
      return fc.jsonValue({ maxDepth: 1 });
  }
}

function plausibleString(schema: JsonSchema): fc.Arbitrary<string> {
  if (schema.format === 'uuid') return fc.uuid();
  if (schema.format === 'date-time') return fc.date({ noInvalidDate: true }).map((d) => d.toISOString());
  if (schema.format === 'uri') return fc.webUrl();
  if (schema.pattern) {
    try {
      return fc.stringMatching(new RegExp(schema.pattern));
    } catch {
      // a pattern fast-check cannot generate from (unicode classes): any string will do around the attack
    }
  }
  const min = schema.minLength ?? 0;
  return fc.string({ minLength: min, maxLength: Math.min(schema.maxLength ?? min + 20, min + 20) });
}

/** A value the schema refuses, possibly deep inside an otherwise plausible value. */
function refused(schema: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  const here: fc.Arbitrary<unknown>[] = [anyJson, deeplyNested];
  const [type] = typeOf(schema);
  if (type === 'string' || schema.enum) {
    here.push(oddString);
    const max = schema.maxLength;
    if (max !== undefined) here.push(fc.integer({ min: max + 1, max: max + 5_000 }).map((n) => 'x'.repeat(n)));
    if (schema.pattern || schema.format || schema.enum) {
      here.push(plausible(schema).map((v) => `${String(v)}\u0301`));
      here.push(fc.integer({ min: 8_000, max: 200_000 }).map((n) => 'x'.repeat(n)));
    }
  }
  if (type === 'integer' || type === 'number') {
    here.push(fc.constantFrom(-1, 0, 1.5, 1e21, -1e308, 2 ** 53 + 1, '1', '1e3'));
  }
  if (type === 'array' && schema.items && depth < 5) {
    const items = schema.items;
    here.push(
      fc
        .tuple(plausible(schema, depth), refused(items, depth + 1), fc.nat())
        .map(([array, bad, at]) => insertAt(array as unknown[], bad, at)),
    );
    if (schema.maxItems !== undefined && schema.maxItems < 1_000) {
      here.push(plausible(items, depth + 1).map((item) => Array.from({ length: schema.maxItems! + 1 }, () => item)));
    }
  }
  if (type === 'object' && depth < 5) {
    const properties = Object.entries(schema.properties ?? {});
    const required = schema.required ?? [];
    if (properties.length > 0) {
      here.push(
        fc
          .constantFrom(...properties)
          .chain(([key, member]) =>
            fc
              .tuple(plausible(schema, depth), refused(member, depth + 1))
              .map(([value, bad]) => ({ ...(value as object), [key]: bad })),
          ),
      );
    }
    if (required.length > 0) {
      here.push(
        fc.tuple(plausible(schema, depth), fc.constantFrom(...required)).map(([value, key]) => {
          const { [key]: _missing, ...rest } = value as Record<string, unknown>;
          return rest;
        }),
      );
    }
    if (schema.additionalProperties === false) {
      here.push(
        fc
          .tuple(plausible(schema, depth), fc.oneof(fc.constantFrom('extra', '__proto__', 'constructor'), oddString))
          .map(([value, key]) => ({ ...(value as object), [key]: 1 })),
      );
    }
  }
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches?.length && depth < 5) here.push(...branches.map((b) => refused(b, depth + 1)));
  return fc.oneof(...here).filter((value) => !admits(schema, value));
}

function insertAt<T>(array: T[], item: T, at: number): T[] {
  const i = array.length === 0 ? 0 : at % (array.length + 1);
  return [...array.slice(0, i), item, ...array.slice(i)];
}

/** Bodies no JSON endpoint takes, sent as they are. */
const RAW_BODIES = [
  '',
  '{',
  '{"a":1,}',
  'null',
  '[]',
  '"string"',
  'NaN',
  '{"__proto__":{"admin":true}}',
  '{"constructor":{"prototype":{"admin":true}}}',
  '\ufeff{}',
  '{"a":"\\ud800"}',
  '{"a":"\\u0000"}',
  '<?xml version="1.0"?><claim/>',
];

/** A body the endpoint must refuse: invalid by its schema, not JSON at all, or over the size limit. */
function hostileBody(schema: JsonSchema): fc.Arbitrary<{ json: unknown } | { raw: string }> {
  return fc.oneof(
    { weight: 8, arbitrary: refused(schema).map((json) => ({ json })) },
    { weight: 1, arbitrary: fc.constantFrom(...RAW_BODIES).map((raw) => ({ raw })) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }).map((raw) => ({ raw: `{${raw}` })) },
    { weight: 1, arbitrary: fc.constant({ raw: JSON.stringify({ padding: 'x'.repeat(1024 * 1024) }) }) },
  );
}

/** Path parameter values that name nothing of the caller's: other tenants' ids, unknown ids, and junk. */
function foreignOrJunkId(callers: Callers): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(...callers.foreignIds),
    fc.uuid(),
    fc.stringMatching(/^[0-9a-f]{64}$/),
    fc.constantFrom('constructor', '__proto__', 'toString', 'null', 'undefined', '-1', '0', '1e3', '.', '..'),
    fc.constantFrom('\u0000', 'a\u0000b', '\ud800', '%', 'x'.repeat(100)),
    oddString.filter((s) => s.length > 0),
  );
}

const segment = (value: string) => encodeURIComponent(value.replace(/[\ud800-\udfff]/g, '\ufffd'));

/** `/v1/claims/{id}` with its parameters filled in (percent-encoded). */
function fill(path: string, values: Record<string, string>): string {
  return path.replace(/\{(\w+)\}/g, (_m, name: string) => segment(values[name]));
}

/** The ways a URL is malformed: a bad percent-escape, a parameter over the router's limit, a path over Node's. */
function hostileUrl(endpoint: Endpoint, benignPath: string): fc.Arbitrary<string> {
  const options: fc.Arbitrary<string>[] = [
    fc.constantFrom('%E0%A4%A', '%', '%zz', '%C0%AF', '%ED%A0%80').map((bad) => `${benignPath}/${bad}`),
    fc.constantFrom('%E0%A4%A', '%%', '%G1').map((bad) => benignPath.replace(/\/v1\//, `/v1/${bad}`)),
    fc.integer({ min: 101, max: 2_000 }).map((n) => `${benignPath}/${'a'.repeat(n)}`),
    fc.integer({ min: 17_000, max: 40_000 }).map((n) => `${benignPath}/${'a'.repeat(n)}`),
    fc.constantFrom('/..', '/%2e%2e', '/.%00', '//', '/;', '/%2F').map((tail) => `${benignPath}${tail}x`),
  ];
  if (endpoint.pathParams.length > 0) {
    options.push(
      fc
        .integer({ min: 101, max: 5_000 })
        .map((n) => fill(endpoint.path, Object.fromEntries(endpoint.pathParams.map((p) => [p, 'a'.repeat(n)])))),
      fc.constant(endpoint.path.replace(/\{\w+\}/g, '%E0%A4%A')),
    );
  }
  return fc.oneof(...options);
}

/** Every hostile request this endpoint can be sent, each labelled by its attack. */
export function hostileRequests(endpoint: Endpoint, callers: Callers): fc.Arbitrary<HostileRequest> {
  const params = fc.record(Object.fromEntries(endpoint.pathParams.map((p) => [p, foreignOrJunkId(callers)])));
  const benign = fc.record({
    params,
    body: endpoint.body ? plausible(endpoint.body).map((json) => ({ json })) : fc.constant(undefined),
    role: endpoint.roles.length ? fc.constantFrom(...endpoint.roles) : fc.constant(undefined),
  });
  // Bodies and queries have the most ways to be wrong, and reach furthest into a service: most requests attack them.
  const attacks: fc.WeightedArbitrary<HostileRequest>[] = [];
  const add = (weight: number, arbitrary: fc.Arbitrary<HostileRequest>) => attacks.push({ weight, arbitrary });
  const request = (
    attack: string,
    b: { params: Record<string, string>; body?: HostileRequest['body']; role?: string },
    change: Partial<HostileRequest> = {},
  ): HostileRequest => ({
    attack,
    method: endpoint.method,
    path: fill(endpoint.path, b.params),
    body: b.body,
    ...change,
    headers: {
      ...(b.body ? { 'content-type': 'application/json' } : {}),
      ...(b.role ? { authorization: callers.valid(b.role) } : {}),
      ...(endpoint.idempotencyKey ? { 'idempotency-key': uuidv4() } : {}),
      ...change.headers,
    },
  });

  if (endpoint.roles.length > 0) {
    const wrongRoles = ['insurer', 'provider', 'ops', 'auditor'].filter((r) => !endpoint.roles.includes(r));
    const tokens = [
      ...Object.entries(callers.invalid),
      ...wrongRoles.map((r) => [`a ${r} token`, callers.valid(r)] as [string, string]),
    ];
    add(
      2,
      fc
        .tuple(benign, fc.constantFrom(...tokens))
        .map(([b, [what, authorization]]) => request(`token: ${what}`, b, { headers: { authorization } })),
    );
  }
  if (endpoint.pathParams.length > 0) {
    // The benign parameters are already foreign or junk: the caller never owns what they name.
    add(
      2,
      benign.map((b) => request('path: an id that is not the caller’s', b)),
    );
  }
  add(
    2,
    benign.chain((b) => {
      const base = request('url', b);
      return hostileUrl(endpoint, base.path).map((path) => ({ ...base, attack: `url: ${path.slice(0, 80)}`, path }));
    }),
  );
  const constrained = endpoint.query.filter(
    (p) => p.required || p.schema.pattern || p.schema.format || p.schema.enum || typeOf(p.schema).includes('integer'),
  );
  if (constrained.length > 0) {
    add(
      6,
      fc
        .tuple(benign, fc.constantFrom(...constrained), queryValue())
        // Missing when required, or a value the document refuses (query values are text, coerced as documented).
        .filter(([, param, value]) =>
          value === undefined ? param.required === true : !admits(param.schema, value, queryAjv),
        )
        .map(([b, param, value]): HostileRequest => {
          const base = request('query', b);
          const given = value === undefined ? [] : [`${param.name}=${segment(value)}`];
          const others = endpoint.query.filter((p) => p.required && p !== param).map((p) => `${p.name}=0`);
          const path = `${base.path}?${[...given, ...others].join('&')}`;
          return { ...base, attack: `query: ${param.name}=${String(value).slice(0, 40)}`, path };
        }),
    );
  }
  if (endpoint.body) {
    const schema = endpoint.body;
    add(
      10,
      fc.tuple(benign, hostileBody(schema)).map(([b, body]) => request(`body`, b, { body })),
    );
    add(
      1,
      fc
        .tuple(
          benign,
          fc.constantFrom(
            'text/plain',
            'application/xml',
            'application/x-www-form-urlencoded',
            'multipart/form-data; boundary=x',
            'application/octet-stream',
          ),
        )
        .map(([b, type]) =>
          request(`content-type: ${type}`, b, {
            body: { raw: JSON.stringify(b.body && 'json' in b.body ? b.body.json : {}) },
            headers: { 'content-type': type },
          }),
        ),
    );
  }
  if (endpoint.idempotencyKey) {
    add(
      1,
      fc
        .tuple(
          benign,
          fc.constantFrom('', 'short', 'k'.repeat(129), 'has spaces in it', 'clé-unicode-1', 'a,b,c,d,e,f'),
        )
        .map(([b, key]) => {
          const r = request(`idempotency-key: ${JSON.stringify(key)}`, b);
          return { ...r, headers: { ...r.headers, 'idempotency-key': key } };
        }),
    );
  }
  return fc.oneof(...attacks);
}

/** A query parameter's value as a client might send it: odd text, numbers in odd forms, or nothing at all. */
function queryValue(): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    fc.constant(undefined),
    fc.constantFrom(
      '-1',
      '0',
      '1.5',
      '1e3',
      '0x10',
      ' 5',
      '99999999999999999999',
      'true',
      '[]',
      '2026-02-30T00:00:00Z',
    ),
    oddString,
    fc.integer({ min: 201, max: 3_000 }).map((n) => 'c'.repeat(n)),
  );
}
