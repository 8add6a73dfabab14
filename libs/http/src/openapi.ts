import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { applyDecorators, NotFoundException } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ApiBody, ApiQuery, DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { ZodObject, ZodOptional, ZodRawShape, ZodTypeAny } from 'zod';
import { zodToJsonSchema } from 'zod-to-json-schema';

/**
 * OpenAPI 3 for every service at /docs (JSON at /docs-json), generated from the controllers and from the same zod
 * schemas that validate requests, so the document cannot drift from what the API accepts.
 */
// zod-to-json-schema's generic signature makes tsc recurse without end on our larger schemas; call it plainly.
const toJsonSchema = zodToJsonSchema as unknown as (schema: unknown, options: object) => Record<string, unknown>;

export function openApiSchemaOf(schema: ZodTypeAny): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = toJsonSchema(schema, { target: 'openApi3', $refStrategy: 'none' });
  return rest;
}

/** Documents a JSON request body with the zod schema that validates it. */
export const ApiZodBody = (schema: ZodTypeAny, description?: string) =>
  ApiBody({ schema: openApiSchemaOf(schema), description });

/** Documents every query parameter of a zod object schema. */
export const ApiZodQuery = <T extends ZodRawShape>(schema: ZodObject<T>) =>
  applyDecorators(
    ...Object.entries(schema.shape).map(([name, field]) =>
      ApiQuery({ name, required: !field.isOptional(), schema: openApiSchemaOf(presentValueOf(field)) }),
    ),
  );

/** A parameter's schema when it is given: optionality is `required: false`, not an `anyOf` with `not: {}`. */
function presentValueOf(field: ZodTypeAny): ZodTypeAny {
  return field instanceof ZodOptional ? presentValueOf(field.unwrap() as ZodTypeAny) : field;
}

export function setupOpenApi(app: NestFastifyApplication, title: string, description: string): void {
  const config = new DocumentBuilder()
    .setTitle(`claimchain ${title}`)
    .setDescription(`${description}\n\nErrors are RFC 9457 application/problem+json.`)
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .build();
  const document = SwaggerModule.createDocument(app, config);
  SwaggerModule.setup('docs', app, document, { ui: false, jsonDocumentUrl: 'docs-json' });
  serveSwaggerUi(app, title);
}

/**
 * The interactive UI at /docs, served from the swagger-ui-dist package. Nest's own UI serving needs @fastify/static,
 * whose current release depends on an ESM-only package that jest (on Node 20) cannot load, so these few files are
 * served directly; nothing is fetched from outside the machine.
 */
const UI_ASSETS = new Map([
  ['swagger-ui.css', 'text/css; charset=utf-8'],
  ['swagger-ui-bundle.js', 'application/javascript; charset=utf-8'],
  ['favicon-32x32.png', 'image/png'],
]);

function serveSwaggerUi(app: NestFastifyApplication, title: string): void {
  const dir = dirname(require.resolve('swagger-ui-dist/package.json'));
  const fastify = app.getHttpAdapter().getInstance();
  const page = `<!doctype html><html><head><meta charset="utf-8"><title>claimchain ${title} API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"><link rel="icon" href="/docs/assets/favicon-32x32.png"></head>
<body><div id="swagger-ui"></div><script src="/docs/assets/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({ url: '/docs-json', dom_id: '#swagger-ui' });</script></body></html>`;
  fastify.get('/docs', (_req, reply) => reply.type('text/html; charset=utf-8').send(page));
  fastify.get<{ Params: { file: string } }>('/docs/assets/:file', (req, reply) => {
    // A Map, not an object: a name like `constructor` must not find Object.prototype's.
    const type = UI_ASSETS.get(req.params.file);
    if (!type) throw new NotFoundException(`no asset ${req.params.file}`);
    return reply
      .type(type)
      .header('cache-control', 'public, max-age=86400')
      .send(readFileSync(join(dir, req.params.file)));
  });
}
