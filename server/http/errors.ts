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

const WHAT_ZH: Record<string, string> = {
  Camera: '点位', Case: '案卷', User: '用户', Event: '事件', Incident: '警情', 'API key': 'API 密钥', Department: '部门',
  'Event type': '事件类型', Rule: '规则', Preset: '预案', Group: '分组', 'Undelivered outbox row': '待发送记录',
};
/** "找不到点位 Camera not found": Chinese first where the thing has a name we know. */
export const notFound = (what: string) => new HttpError(404, `找不到${WHAT_ZH[what] ?? ''} ${what} not found`.replace('找不到 ', '找不到 '));
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

/** Known patterns said in words (a user never sees a raw regular expression). */
const PATTERN_WORDS: Record<string, string> = {
  '^[A-Za-z0-9_.@-]{2,64}$': '只能用字母、数字和 _ . @ -，2–64 位 may use letters, digits and _ . @ - (2 to 64 characters)',
  '^([0-9]{14}|[0-9A-Z]{15})$': '应为 14 位数字或 15 位大写字母与数字 must be 14 digits or 15 capital letters and digits',
  '^[^\\u0000-\\u001f\\u007f]*$': '不能含控制字符 must not contain control characters',
  '^https?://[^\\s]+$': '应为 http:// 或 https:// 开头的地址 must be an http:// or https:// address',
  '^[0-9+() -]*$': '只能用数字、空格和 + - ( ) may use digits, spaces and + - ( )',
  '^[0-9+() -]{3,32}$': '应为 3–32 位数字、空格和 + - ( ) must be 3 to 32 digits, spaces and + - ( )',
  '^[a-z][a-z0-9_]{1,63}$': '应为小写字母开头的小写字母、数字和 _ must be lower-case letters, digits and _, starting with a letter',
  '^[0-9A-Za-z_.-]{1,32}$': '只能用字母、数字和 _ . -，1–32 位 may use letters, digits and _ . - (1 to 32 characters)',
  '\\S': '不能为空白 must not be blank',
};

const TYPE_ZH: Record<string, string> = { string: '文字 text', number: '数字 a number', integer: '整数 a whole number', boolean: '是/否 true or false', object: '对象 an object', array: '列表 a list' };

/** A field error in Chinese, then English, in words. */
function describe(e: AjvLikeError): [zh: string, en: string] {
  const p = e.params;
  switch (e.keyword) {
    case 'required': return split('必填 is required');
    case 'additionalProperties': return split('不是已知字段 is not a known field');
    case 'enum': return [`应为以下之一：${(p.allowedValues as unknown[]).join(', ')}`, `must be one of ${(p.allowedValues as unknown[]).join(', ')}`];
    case 'pattern': return split(PATTERN_WORDS[String(p.pattern)] ?? '格式不对 has the wrong format');
    case 'minLength': return Number(p.limit) === 1 ? ['不能为空', 'must not be empty'] : [`至少 ${String(p.limit)} 个字符`, `must be at least ${String(p.limit)} characters`];
    case 'maxLength': return split(`最多 ${String(p.limit)} 个字符 must be at most ${String(p.limit)} characters`);
    case 'minimum': return split(`不能小于 ${String(p.limit)} must be at least ${String(p.limit)}`);
    case 'maximum': return split(`不能大于 ${String(p.limit)} must be at most ${String(p.limit)}`);
    case 'exclusiveMinimum': return split(`必须大于 ${String(p.limit)} must be more than ${String(p.limit)}`);
    case 'exclusiveMaximum': return split(`必须小于 ${String(p.limit)} must be less than ${String(p.limit)}`);
    case 'minItems': return split(`至少 ${String(p.limit)} 项 needs at least ${String(p.limit)} items`);
    case 'maxItems': return split(`最多 ${String(p.limit)} 项 takes at most ${String(p.limit)} items`);
    case 'uniqueItems': return split('不能有重复项 must not repeat an item');
    case 'minProperties': return split('至少要给出一项 give at least one field');
    case 'type': {
      const t = String(p.type).split(',')[0];
      return [`应为${TYPE_ZH[t]?.split(' ')[0] ?? t}`, `must be ${TYPE_ZH[t]?.split(' ').slice(1).join(' ') ?? t}`];
    }
    case 'format': {
      const f = String(p.format);
      if (f === 'uuid') return ['不是有效的编号', 'is not a valid id'];
      if (f === 'date-time') return ['不是有效的时间（ISO 8601）', 'is not a valid time (ISO 8601)'];
      if (f === 'date') return ['不是有效的日期', 'is not a valid date'];
      return [`格式不对（${f}）`, `is not a valid ${f}`];
    }
    default: return ['无效', e.message && !/pattern/.test(e.message) ? e.message : 'is invalid'];
  }
}

/** "中文 english": the English starts at the first latin word after the Chinese. */
function split(both: string): [string, string] {
  const i = both.search(/ (?=(is|must|may|needs|takes|give)\b)/);
  return i < 0 ? [both, both] : [both.slice(0, i), both.slice(i + 1)];
}

const WHERE_ZH: Record<string, string> = { body: '请求内容', querystring: '查询参数', params: '路径参数', headers: '请求头' };

/** Turns every failure into {statusCode, error, message[, fieldErrors]} and never leaks internals on 5xx. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError & { fieldErrors?: FieldErrors }, request, reply) => {
    if (err.validation) {
      const fieldErrors: FieldErrors = {};
      const zhParts: string[] = [];
      const enParts: string[] = [];
      for (const e of err.validation as AjvLikeError[]) {
        const f = fieldOf(e);
        if (fieldErrors[f]) continue;
        const [zh, en] = describe(e);
        fieldErrors[f] = `${zh} ${en}`;
        zhParts.push(`${f} ${zh}`);
        enParts.push(`${f} ${en}`);
      }
      const where = err.validationContext ?? 'request';
      // "请求内容有误：name 必填 · Invalid body: name is required" — Chinese first, the English after it
      const message = `${WHERE_ZH[where] ?? '请求'}有误：${zhParts.join('；')} · Invalid ${where}: ${enParts.join('; ')}`;
      return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message, fieldErrors });
    }
    let status = err.statusCode ?? 500;
    let message = err.message;
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      const mb = Math.round(request.routeOptions.bodyLimit / 1024 / 1024);
      message = `请求内容超过本接口允许的 ${mb} MB · Request body is larger than the ${mb} MB this endpoint accepts`;
    }
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') message = `Content-Type ${request.headers['content-type'] ?? '(none)'} is not accepted here`;
    if (err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') message = 'Body must be a JSON document, got an empty body';
    if (err instanceof SyntaxError || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
      status = 400;
      message = `Malformed JSON body: ${err.message}`;
    }
    // an upstream device's failure (502/504, an HttpError worded for the user) is told as it is; our own bugs are not
    if (status >= 500 && !(err instanceof HttpError && (status === 502 || status === 504))) {
      request.log.error({ err }, 'request failed');
      message = '服务器内部错误，详情见服务器日志 Internal error; the details are in the server log';
    }
    const body: Record<string, unknown> = { statusCode: status, error: STATUS_TEXT[status] ?? 'Error', message };
    if (err.fieldErrors) body.fieldErrors = err.fieldErrors;
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ statusCode: 404, error: 'Not Found', message: `No route ${request.method} ${request.url.split('?')[0]}` });
  });
}
