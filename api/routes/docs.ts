import type { FastifyInstance } from 'fastify';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { buildOpenApiDocument } from '../openapi/document';
import type { ApiDeps } from '../app';
import { parseOr400 } from '../errors';

/** The reference UI is swagger-ui-dist's own bundle, served from node_modules: no CDN, nothing fetched at run time. */
const UI_DIR = path.dirname(require.resolve('swagger-ui-dist/package.json'));
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'index.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
  'favicon-16x16.png': 'image/png',
};
const assetParams = z.object({ asset: z.enum(Object.keys(ASSETS) as [string, ...string[]], 'must be one of the reference UI files') });

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Optinflow API reference</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"><link rel="stylesheet" href="/docs/index.css">
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script><script src="/docs/swagger-ui-standalone-preset.js"></script><script src="/docs/init.js"></script>
</body></html>`;

// A separate file rather than an inline script, so the page's CSP can forbid inline scripts.
const INIT = `window.onload = function () {
  window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: 'StandaloneLayout' });
};`;

const CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self' data:; frame-ancestors 'none'; base-uri 'none'";
/** Our package.json, from the sources (tsx) or from a build in dist/ alike. */
function packageVersion(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  }
  return '0.0.0';
}

/** GET /openapi.json (the OpenAPI 3.1 document built from the routes' zod schemas) and the reference UI at /docs. */
export function registerDocsRoutes(app: FastifyInstance, deps: Pick<ApiDeps, 'publicBaseUrl'>): void {
  const document = JSON.stringify(buildOpenApiDocument({ version: packageVersion(), serverUrl: deps.publicBaseUrl }));
  const assets = new Map<string, Buffer>();

  app.get('/openapi.json', async (_request, reply) => reply.type('application/json; charset=utf-8').header('cache-control', 'no-cache').send(document));

  app.get('/docs', async (_request, reply) => reply.type('text/html; charset=utf-8').header('content-security-policy', CSP).send(PAGE));

  app.get('/docs/init.js', async (_request, reply) => reply.type('text/javascript; charset=utf-8').send(INIT));

  app.get('/docs/:asset', async (request, reply) => {
    const { asset } = parseOr400(assetParams, request.params, 'params');
    let bytes = assets.get(asset);
    if (!bytes) assets.set(asset, (bytes = readFileSync(path.join(UI_DIR, asset))));
    return reply.type(ASSETS[asset]).header('cache-control', 'public, max-age=3600').send(bytes);
  });
}
