// Each service declares its routes once, with the same TypeBox schemas it validates with; the
// OpenAPI 3.1 document is built from those declarations (3.1 uses JSON Schema 2020-12, so the
// contract schemas drop in as they are). The edge merges the services' documents into one.
import type { TSchema } from '@sinclair/typebox';
import type { ApiKeyScope, Permission } from '../roles';
import { PROBLEM_CONTENT_TYPE, ProblemDetails } from './problem';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** How a route authenticates: a person's JWT, a machine's API key, either, or not at all. */
export type RouteAuth = 'jwt' | 'apiKey' | 'jwtOrApiKey' | 'none';

/** One HTTP operation, declared once: the router, the validator and the document use it. */
export interface RouteSpec {
  method: HttpMethod;
  /** OpenAPI path with `{param}` placeholders, e.g. `/v1/metrics/{key}`. */
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  auth: RouteAuth;
  /** The permission of the role matrix this route requires (absent: any authenticated caller). */
  permission?: Permission;
  /**
   * The API key scope this route requires of a key (routes accepting keys). Absent: a key needs
   * the scope named like `permission` (`catalog:read`), and a route without either takes no key.
   */
  scope?: ApiKeyScope;
  pathParams?: Record<string, TSchema>;
  query?: Record<string, TSchema>;
  body?: TSchema;
  /** Creating requests accept an `Idempotency-Key` header. */
  idempotent?: boolean;
  /** Further request content types beside application/json (CloudEvents at ingestion). */
  alternativeBodies?: Record<string, TSchema>;
  /** Success responses by status (errors are added from `auth` and `body`). */
  responses: Record<number, { description: string; schema?: TSchema; contentType?: string }>;
  /** Problem responses the route adds to the common ones (413, 429, 503...), by status. */
  problems?: Record<number, string>;
}

/** The Express path of an OpenAPI path: `/v1/metrics/{key}` -> `/v1/metrics/:key`. */
export function toExpressPath(path: string): string {
  return path.replace(/\{([A-Za-z0-9_]+)\}/g, ':$1');
}

const problem = (description: string) => ({
  description,
  content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: '#/components/schemas/Problem' } } },
});

function operation(route: RouteSpec) {
  const parameters: object[] = [];
  for (const name of route.path.match(/\{([A-Za-z0-9_]+)\}/g)?.map((p) => p.slice(1, -1)) ?? []) {
    parameters.push({ name, in: 'path', required: true, schema: route.pathParams?.[name] ?? { type: 'string' } });
  }
  for (const [name, schema] of Object.entries(route.query ?? {})) {
    parameters.push({ name, in: 'query', required: false, schema });
  }
  if (route.idempotent) {
    parameters.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description: 'Retries with the same key return the first response instead of creating twice.',
      schema: { type: 'string', minLength: 1, maxLength: 255 },
    });
  }
  const responses: Record<string, object> = {};
  for (const [status, r] of Object.entries(route.responses)) {
    if (r.contentType) {
      // A document (HTML page, PDF), not JSON: described as bytes of that media type.
      responses[status] = {
        description: r.description,
        content: { [r.contentType]: { schema: r.schema ?? { type: 'string', format: 'binary' } } },
      };
    } else {
      responses[status] = r.schema
        ? { description: r.description, content: { 'application/json': { schema: r.schema } } }
        : { description: r.description };
    }
  }
  for (const [status, description] of Object.entries(route.problems ?? {})) responses[status] = problem(description);
  if (route.body || route.query || route.pathParams) responses['400'] ??= problem('The request is invalid');
  if (route.auth !== 'none') {
    responses['401'] ??= problem('Authentication required');
    if (route.permission || route.scope)
      responses['403'] ??= problem(
        `Requires the ${route.permission ?? route.scope} ${route.permission ? 'permission' : 'scope'}`,
      );
  }
  if (route.path.includes('{')) responses['404'] ??= problem('Not found in your organization');
  if (route.idempotent) responses['422'] ??= problem('Idempotency-Key reused with a different request');
  responses['500'] ??= problem('Internal error');

  const security = {
    jwt: [{ bearerAuth: [] }],
    apiKey: [{ apiKey: [] }],
    jwtOrApiKey: [{ bearerAuth: [] }, { apiKey: [] }],
    none: [],
  }[route.auth];
  return {
    operationId: route.operationId,
    summary: route.summary,
    tags: [route.tag],
    security,
    ...(route.permission ? { 'x-usageflow-permission': route.permission } : {}),
    ...(route.scope ? { 'x-usageflow-scope': route.scope } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(route.body
      ? {
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: route.body },
              ...Object.fromEntries(
                Object.entries(route.alternativeBodies ?? {}).map(([type, schema]) => [type, { schema }]),
              ),
            },
          },
        }
      : {}),
    responses,
  };
}

/** Builds an OpenAPI 3.1 document from route declarations; duplicate operations are refused. */
export function buildOpenApiDocument(options: { title: string; version: string; routes: readonly RouteSpec[] }) {
  const paths: Record<string, Record<string, object>> = {};
  const operationIds = new Set<string>();
  for (const route of options.routes) {
    if (operationIds.has(route.operationId)) throw new Error(`duplicate operationId ${route.operationId}`);
    operationIds.add(route.operationId);
    const item = (paths[route.path] ??= {});
    if (item[route.method]) throw new Error(`duplicate operation ${route.method.toUpperCase()} ${route.path}`);
    item[route.method] = operation(route);
  }
  return {
    openapi: '3.1.0',
    info: { title: options.title, version: options.version },
    paths,
    components: {
      schemas: { Problem: ProblemDetails as TSchema },
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        apiKey: { type: 'apiKey', in: 'header', name: 'x-usageflow-api-key' },
      },
    },
  };
}
