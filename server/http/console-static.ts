import { existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';

export const CONSOLE_DIST = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'console', 'dist');

/** Serves the built console; client-side routes (/wall, /cameras, ...) get index.html. */
export async function consoleStatic(app: FastifyInstance): Promise<void> {
  if (!existsSync(join(CONSOLE_DIST, 'index.html'))) {
    app.log.warn({ dir: CONSOLE_DIST }, 'console not built (npm run build:console); serving the API only');
    return;
  }
  await app.register(fastifyStatic, { root: CONSOLE_DIST, wildcard: false, index: ['index.html'], cacheControl: false,
    setHeaders: (reply, path) => {
      // Hashed assets are immutable; index.html must always be fresh so a deploy takes effect.
      reply.header('cache-control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
    } });
  app.get('/*', { config: { public: true }, schema: { hide: true } }, (request, reply) => {
    if (request.url.startsWith('/api/')) {
      return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `No route ${request.method} ${request.url.split('?')[0]}` });
    }
    return reply.sendFile('index.html');
  });
}
