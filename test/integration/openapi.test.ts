import path from 'node:path';
import { z } from 'zod';
import { openApiPath } from '../../api/openapi/document';
import { registeredRoutes } from '../../api/openapi/catalog';
import { curlExamples } from '../harness/readme-curl';
import { startTestStack, type TestStack } from '../harness/stack';

/**
 * /openapi.json against what Fastify really serves: every registered route (collected with onRoute as
 * the app was built) must be in the document and every documented route registered, and the README's
 * curl examples must validate against the document's own schemas (read back from JSON Schema).
 */

let stack: TestStack;
let doc: any;

beforeAll(async () => {
  stack = await startTestStack({ prefix: 'openapi', worker: false });
  const res = await fetch(`${stack.apiUrl}/openapi.json`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('application/json');
  doc = await res.json();
});

afterAll(async () => {
  await stack?.close();
});

/** The reference UI and the document itself are not API routes. */
const SELF = /^\/(openapi\.json|docs(\/.*)?)$/;

const operationOf = (method: string, fastifyPath: string) => doc.paths[openApiPath(fastifyPath)]?.[method.toLowerCase()];

test('an OpenAPI 3.1 document with its security schemes', () => {
  expect(doc.openapi).toBe('3.1.0');
  expect(doc.info.title).toBe('Optinflow API');
  expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['apiKey', 'reportLink', 'twilioSignature']);
  expect(operationOf('POST', '/v1/journeys').security).toEqual([{ apiKey: [] }]);
  expect(operationOf('POST', '/webhooks/twilio/messaging').security).toEqual([{ twilioSignature: [] }]);
});

test('every registered route, /v1 and webhooks included, is in the document, and nothing else is', () => {
  const routes = registeredRoutes(stack.api).filter((r) => !SELF.test(r.url));
  expect(routes.filter((r) => r.url.startsWith('/v1/')).length).toBeGreaterThanOrEqual(15);
  expect(routes.filter((r) => r.url.startsWith('/webhooks/')).length).toBeGreaterThanOrEqual(10);
  const missing = routes.filter((r) => !operationOf(r.method, r.url)).map((r) => `${r.method} ${r.url}`);
  expect(missing).toEqual([]);
  const served = new Set(routes.map((r) => `${r.method.toLowerCase()} ${openApiPath(r.url)}`));
  const stale = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops as object).map((m) => `${m} ${p}`)).filter((op) => !served.has(op));
  expect(stale).toEqual([]);
});

test('path parameters in the document match the path', () => {
  for (const [p, ops] of Object.entries<Record<string, any>>(doc.paths)) {
    const inPath = [...p.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const op of Object.values(ops)) expect([p, op.parameters.filter((x: any) => x.in === 'path').map((x: any) => x.name).sort()]).toEqual([p, inPath]);
  }
});

/** Validates an example against the operation it calls, with the document's JSON Schemas; answers the problems. */
function problemsOf(method: string, url: URL, body: unknown): string[] {
  const entry = Object.entries<Record<string, any>>(doc.paths).find(([p]) => new RegExp(`^${p.replace(/\{\w+\}/g, '[^/]+')}$`).test(url.pathname));
  const op = entry?.[1][method.toLowerCase()];
  if (!op) return [`${method} ${url.pathname} is not in the document`];
  const problems: string[] = [];
  const query = op.parameters.filter((x: any) => x.in === 'query');
  for (const [name, value] of url.searchParams) {
    const param = query.find((x: any) => x.name === name);
    if (!param) problems.push(`query parameter ${name} is not documented`);
    // A query string carries text: a number the schema asks for is read the way the route coerces it.
    else if (!z.fromJSONSchema(param.schema).safeParse(['number', 'integer'].includes(param.schema.type) && value.trim() !== '' ? Number(value) : value).success) problems.push(`query parameter ${name}=${value} does not match its schema`);
  }
  for (const param of query) if (param.required && !url.searchParams.has(param.name)) problems.push(`required query parameter ${param.name} is missing`);
  const schema = op.requestBody?.content?.['application/json']?.schema;
  if (body !== undefined) {
    if (!schema) problems.push('sends a JSON body the operation does not take');
    else {
      const r = z.fromJSONSchema(schema).safeParse(body);
      if (!r.success) problems.push(...r.error.issues.map((i) => `body.${i.path.join('.')}: ${i.message}`));
    }
  } else if (op.requestBody?.required) problems.push('sends no body but the operation needs one');
  return problems;
}

test("the README's curl examples validate against the document", () => {
  const examples = curlExamples(path.join(__dirname, '..', '..', 'README.md'));
  expect(examples.length).toBeGreaterThanOrEqual(4);
  expect(examples.some((e) => e.method === 'POST' && e.body !== undefined)).toBe(true);
  const failures = examples.map((e) => ({ example: e.source, problems: problemsOf(e.method, e.url, e.body) })).filter((f) => f.problems.length);
  expect(failures).toEqual([]);
});

test('the validation catches a broken example: a missing field, a wrong type, an unknown route', () => {
  const start = new URL('http://127.0.0.1:3000/v1/journeys');
  expect(problemsOf('POST', start, { businessId: 'acme', contact: { phone: '+14155550100' }, categories: ['offers'] })).toEqual([]);
  expect(problemsOf('POST', start, { businessId: 'acme', categories: ['offers'] }).join()).toContain('body.contact');
  expect(problemsOf('POST', start, { businessId: 'acme', contact: { phone: '+14155550100' }, categories: 'offers' }).join()).toContain('body.categories');
  expect(problemsOf('POST', start, { businessId: 'acme', contact: { phone: '+14155550100' }, categories: ['offers'], plan: [{ channel: 'fax', waitFor: '1h' }] }).join()).toContain('body.plan.0.channel');
  expect(problemsOf('GET', new URL('http://127.0.0.1:3000/v1/reports/consent?groupBy=colour'), undefined).join()).toMatch(/groupBy=colour.*businessId is missing|businessId is missing/s);
  expect(problemsOf('GET', new URL('http://127.0.0.1:3000/v1/nothing'), undefined)).toEqual(['GET /v1/nothing is not in the document']);
});

test('the reference UI is served locally: its page, script and style from swagger-ui-dist', async () => {
  const page = await fetch(`${stack.apiUrl}/docs`);
  expect(page.status).toBe(200);
  const html = await page.text();
  expect(html).toContain('/docs/swagger-ui-bundle.js');
  expect(html).not.toMatch(/https?:\/\//);
  expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
  for (const [asset, type] of [['swagger-ui-bundle.js', 'text/javascript'], ['swagger-ui.css', 'text/css'], ['init.js', 'text/javascript']]) {
    const res = await fetch(`${stack.apiUrl}/docs/${asset}`);
    expect([asset, res.status, res.headers.get('content-type')?.split(';')[0]]).toEqual([asset, 200, type]);
  }
  expect((await fetch(`${stack.apiUrl}/docs/..%2Fpackage.json`)).status).toBe(400);
});
