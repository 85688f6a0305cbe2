import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CONTROL_CHARS } from './text-rules.js';

// ajv-formats is CommonJS with a default export.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/**
 * Bodies are validated strictly: no type coercion, unknown fields refused (routes set
 * additionalProperties: false) and never silently stripped. Query strings and params arrive as
 * text, so they are coerced to the declared types.
 */
export function installValidators(app: FastifyInstance): void {
  const strict = addFormats(new Ajv({ allErrors: true, removeAdditional: false, coerceTypes: false, useDefaults: true, strict: false }));
  const coercing = addFormats(new Ajv({ allErrors: true, removeAdditional: false, coerceTypes: 'array', useDefaults: true, strict: false }));
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile((httpPart === "body" ? schema : bounded(schema)) as object));
  // a zero byte or another control character in any query or path parameter: 400 naming it, before any route sees it
  app.addHook('preValidation', async (request, reply) => refuseControlChars(request, reply));
}

/** Largest integer a query or path parameter may hold: fits PostgreSQL's integer, far beyond any page or id. */
export const MAX_QUERY_INTEGER = 2_147_483_647;

/**
 * Query and path numbers are bounded at the schema: an integer or number without a maximum (offset, limit, …) gets
 * ±MAX_QUERY_INTEGER, so 1e20 is a 400 naming the parameter instead of "bigint out of range" from the database.
 */
function bounded(schema: unknown): unknown {
  const s = schema as { properties?: Record<string, Record<string, unknown>> };
  if (!s || typeof s !== 'object' || !s.properties) return schema;
  const properties: Record<string, Record<string, unknown>> = {};
  for (const [name, p] of Object.entries(s.properties)) {
    const types = [p.type].flat();
    if (types.includes('integer') || types.includes('number')) {
      properties[name] = { ...p, maximum: p.maximum ?? MAX_QUERY_INTEGER, minimum: p.minimum ?? -MAX_QUERY_INTEGER };
    } else properties[name] = p;
  }
  return { ...s, properties };
}

function offending(values: unknown): string | undefined {
  if (!values || typeof values !== 'object') return undefined;
  for (const [name, v] of Object.entries(values as Record<string, unknown>)) {
    if (CONTROL_CHARS.test(name)) return name.replace(/[^\x20-\x7e]/g, '?');
    for (const item of [v].flat()) if (typeof item === 'string' && CONTROL_CHARS.test(item)) return name;
  }
  return undefined;
}

async function refuseControlChars(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  for (const [part, values, zh] of [['querystring', request.query, '查询参数'], ['path', request.params, '路径参数']] as const) {
    const name = offending(values);
    if (name === undefined) continue;
    const message = `${zh}有误：${name} 不能包含控制字符 · Invalid ${part}: ${name} must not contain control characters (NUL, line breaks, C1, U+2028/U+2029)`;
    await reply.code(400).send({ statusCode: 400, error: 'Bad Request', message, fieldErrors: { [name]: '不能包含控制字符 · must not contain control characters' } });
    return;
  }
}
