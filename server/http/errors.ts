import type { FastifyError, FastifyInstance } from 'fastify';

export type FieldErrors = Record<string, string>;

/** An error whose message is meant for the user; status decides the HTTP code. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly fieldErrors?: FieldErrors,
  ) {
    super(message);
  }
}

export const notFound = (what: string) => new HttpError(404, `${what} not found`);
export const forbidden = (why: string) => new HttpError(403, why);

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict',
  413: 'Payload Too Large', 415: 'Unsupported Media Type', 422: 'Unprocessable Entity', 429: 'Too Many Requests',
  500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

interface AjvLikeError {
  instancePath?: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

function fieldOf(e: AjvLikeError): string {
  const path = (e.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
  if (e.keyword === 'required') return [path, String(e.params.missingProperty)].filter(Boolean).join('.');
  if (e.keyword === 'additionalProperties') return [path, String(e.params.additionalProperty)].filter(Boolean).join('.');
  return path || '(root)';
}

function describe(e: AjvLikeError): string {
  if (e.keyword === 'required') return 'is required';
  if (e.keyword === 'additionalProperties') return 'is not a known field';
  if (e.keyword === 'enum') return `must be one of ${(e.params.allowedValues as unknown[]).join(', ')}`;
  return e.message ?? 'is invalid';
}

/** Turns every failure into {statusCode, error, message[, fieldErrors]} and never leaks internals on 5xx. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError & { fieldErrors?: FieldErrors }, request, reply) => {
    if (err.validation) {
      const fieldErrors: FieldErrors = {};
      for (const e of err.validation as AjvLikeError[]) fieldErrors[fieldOf(e)] ??= describe(e);
      const where = err.validationContext ?? 'request';
      const message = `Invalid ${where}: ` + Object.entries(fieldErrors).map(([f, m]) => `${f} ${m}`).join('; ');
      return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message, fieldErrors });
    }
    let status = err.statusCode ?? 500;
    let message = err.message;
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') message = `Request body is larger than the ${Math.round(request.routeOptions.bodyLimit / 1024 / 1024)} MB this endpoint accepts`;
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') message = `Content-Type ${request.headers['content-type'] ?? '(none)'} is not accepted here`;
    if (err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') message = 'Body must be a JSON document, got an empty body';
    if (err instanceof SyntaxError || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
      status = 400;
      message = `Malformed JSON body: ${err.message}`;
    }
    // an upstream device's failure (502/504, an HttpError worded for the user) is told as it is; our own bugs are not
    if (status >= 500 && !(err instanceof HttpError && (status === 502 || status === 504))) {
      request.log.error({ err }, 'request failed');
      message = 'Internal error; the details are in the server log';
    }
    const body: Record<string, unknown> = { statusCode: status, error: STATUS_TEXT[status] ?? 'Error', message };
    if (err.fieldErrors) body.fieldErrors = err.fieldErrors;
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `No route ${request.method} ${request.url.split('?')[0]}` });
  });
}
