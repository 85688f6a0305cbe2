/**
 * SIP messages (RFC 3261 §7) as GB/T 28181 uses them: parse one message from a datagram or a framed TCP chunk,
 * serialise one, and build responses. Deliberately small: no multipart bodies, no header folding on output; limits
 * on sizes and header counts so that a hostile peer cannot make us hold or parse much.
 */

export class SipParseError extends Error {
  constructor(reason: string) {
    super(`malformed SIP message: ${reason}`);
    this.name = 'SipParseError';
  }
}

export interface SipRequest {
  kind: 'request';
  method: string;
  uri: string;
  headers: SipHeaders;
  body: Buffer;
}

export interface SipResponse {
  kind: 'response';
  status: number;
  reason: string;
  headers: SipHeaders;
  body: Buffer;
}

export type SipMessage = SipRequest | SipResponse;

export const SIP_LIMITS = {
  /** a GB catalog page, a Via chain and an SDP fit many times over */
  maxMessageBytes: 64 * 1024,
  maxHeaderBytes: 16 * 1024,
  maxHeaders: 64,
};

const COMPACT: Record<string, string> = { v: 'via', f: 'from', t: 'to', i: 'call-id', m: 'contact', l: 'content-length', c: 'content-type', s: 'subject', k: 'supported' };

/** Headers in order, names case-insensitive (compact forms expanded on read). */
export class SipHeaders {
  readonly list: Array<[string, string]> = [];

  constructor(init?: Array<[string, string]>) {
    if (init) for (const [k, v] of init) this.add(k, v);
  }

  private static norm(name: string): string {
    const n = name.toLowerCase();
    return COMPACT[n] ?? n;
  }

  get(name: string): string | undefined {
    const n = SipHeaders.norm(name);
    for (const [k, v] of this.list) if (SipHeaders.norm(k) === n) return v;
    return undefined;
  }

  getAll(name: string): string[] {
    const n = SipHeaders.norm(name);
    return this.list.filter(([k]) => SipHeaders.norm(k) === n).map(([, v]) => v);
  }

  add(name: string, value: string): this {
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) throw new Error('CR/LF in a SIP header');
    this.list.push([name, value]);
    return this;
  }

  set(name: string, value: string): this {
    this.delete(name);
    return this.add(name, value);
  }

  delete(name: string): void {
    const n = SipHeaders.norm(name);
    for (let i = this.list.length - 1; i >= 0; i--) if (SipHeaders.norm(this.list[i][0]) === n) this.list.splice(i, 1);
  }
}

const METHOD = /^[A-Z]{2,16}$/;

/** Where the header block ends (index of the blank line's first byte and the separator length), or -1. */
export function findHeaderEnd(buf: Buffer, from = 0): { at: number; sep: number } | undefined {
  const crlf = buf.indexOf('\r\n\r\n', from, 'latin1');
  const lf = buf.indexOf('\n\n', from, 'latin1');
  if (crlf < 0 && lf < 0) return undefined;
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { at: crlf, sep: 4 };
  return { at: lf, sep: 2 };
}

/** Parse the header block (start line + headers) only. */
export function parseHead(head: string): { start: SipRequest | SipResponse; contentLength?: number } {
  const lines = head.split(/\r?\n/);
  const startLine = lines.shift() ?? '';
  let start: SipRequest | SipResponse;
  const headers = new SipHeaders();
  if (startLine.startsWith('SIP/2.0 ')) {
    const m = /^SIP\/2\.0 ([1-6]\d\d) ?(.*)$/.exec(startLine);
    if (!m) throw new SipParseError('bad status line');
    start = { kind: 'response', status: Number(m[1]), reason: m[2], headers, body: Buffer.alloc(0) };
  } else {
    const m = /^(\S+) (\S+) SIP\/2\.0$/.exec(startLine);
    if (!m || !METHOD.test(m[1])) throw new SipParseError('bad request line');
    if (m[2].length > 512 || !/^sips?:/i.test(m[2])) throw new SipParseError('bad request URI');
    start = { kind: 'request', method: m[1], uri: m[2], headers, body: Buffer.alloc(0) };
  }
  for (const line of lines) {
    if (line === '') continue;
    if (/^[ \t]/.test(line)) {
      // obsolete line folding: continue the previous header
      const last = headers.list[headers.list.length - 1];
      if (!last) throw new SipParseError('continuation before any header');
      last[1] += ' ' + line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new SipParseError('header without a colon');
    const name = line.slice(0, colon).trim();
    if (!/^[A-Za-z0-9!%*_+`'~.-]{1,64}$/.test(name)) throw new SipParseError('bad header name');
    headers.list.push([name, line.slice(colon + 1).trim()]);
    if (headers.list.length > SIP_LIMITS.maxHeaders) throw new SipParseError(`more than ${SIP_LIMITS.maxHeaders} headers`);
  }
  for (const required of ['via', 'from', 'to', 'call-id', 'cseq']) {
    if (!headers.get(required)) throw new SipParseError(`no ${required} header`);
  }
  const cseq = parseCSeq(headers.get('cseq')!);
  if (!cseq) throw new SipParseError('bad CSeq');
  const cl = headers.get('content-length');
  let contentLength: number | undefined;
  if (cl !== undefined) {
    if (!/^\d{1,7}$/.test(cl)) throw new SipParseError('bad Content-Length');
    contentLength = Number(cl);
    if (contentLength > SIP_LIMITS.maxMessageBytes) throw new SipParseError('body too large');
  }
  return { start, contentLength };
}

/** One whole message (a UDP datagram). */
export function parseMessage(buf: Buffer): SipMessage {
  if (buf.length > SIP_LIMITS.maxMessageBytes) throw new SipParseError('message too large');
  const end = findHeaderEnd(buf);
  const headLen = end ? end.at : buf.length;
  if (headLen > SIP_LIMITS.maxHeaderBytes) throw new SipParseError('header block too large');
  const { start, contentLength } = parseHead(buf.subarray(0, headLen).toString('utf8'));
  const rest = end ? buf.subarray(end.at + end.sep) : Buffer.alloc(0);
  if (contentLength !== undefined && contentLength > rest.length) throw new SipParseError('body shorter than Content-Length');
  start.body = Buffer.from(contentLength !== undefined ? rest.subarray(0, contentLength) : rest);
  return start;
}

export function parseCSeq(v: string): { seq: number; method: string } | undefined {
  const m = /^(\d{1,10})\s+([A-Z]{2,16})$/.exec(v.trim());
  if (!m) return undefined;
  return { seq: Number(m[1]), method: m[2] };
}

export function serialize(msg: SipMessage): Buffer {
  const start = msg.kind === 'request' ? `${msg.method} ${msg.uri} SIP/2.0` : `SIP/2.0 ${msg.status} ${msg.reason}`;
  const lines = [start];
  for (const [k, v] of msg.headers.list) if (k.toLowerCase() !== 'content-length' && k.toLowerCase() !== 'l') lines.push(`${k}: ${v}`);
  lines.push(`Content-Length: ${msg.body.length}`);
  return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'utf8'), msg.body]);
}

/** A header's parameters (`;tag=…;branch=…`) and its value before them. */
export function headerParams(v: string): { value: string; params: Record<string, string> } {
  // keep "<sip:…;transport=udp>" together: parameters of the header come after the closing >
  const gt = v.indexOf('>');
  const cut = v.indexOf(';', gt >= 0 ? gt : 0);
  const value = (cut >= 0 ? v.slice(0, cut) : v).trim();
  const params: Record<string, string> = {};
  if (cut >= 0) {
    for (const p of v.slice(cut + 1).split(';')) {
      const [k, ...rest] = p.split('=');
      if (k.trim()) params[k.trim().toLowerCase()] = rest.join('=').trim().replace(/^"|"$/g, '');
    }
  }
  return { value, params };
}

/** The URI inside a From/To/Contact value: `"name" <sip:a@b>` or `sip:a@b`. */
export function uriOf(v: string): string {
  const m = /<([^>]*)>/.exec(v);
  return (m ? m[1] : headerParams(v).value).trim();
}

/** user and host:port of a sip URI. */
export function parseSipUri(uri: string): { user?: string; host: string; port?: number } | undefined {
  const m = /^sips?:(?:([^@;>]+)@)?([^:;>?]+)(?::(\d{1,5}))?/i.exec(uri.trim());
  if (!m) return undefined;
  return { user: m[1], host: m[2], port: m[3] ? Number(m[3]) : undefined };
}

/** A response to a request: Via, From, To (with our tag when we add one), Call-ID and CSeq copied. */
export function makeResponse(req: SipRequest, status: number, reason: string, opts: { toTag?: string; headers?: Array<[string, string]>; body?: Buffer; contentType?: string } = {}): SipResponse {
  const headers = new SipHeaders();
  for (const via of req.headers.getAll('via')) headers.add('Via', via);
  headers.add('From', req.headers.get('from')!);
  let to = req.headers.get('to')!;
  if (opts.toTag && !headerParams(to).params.tag) to += `;tag=${opts.toTag}`;
  headers.add('To', to);
  headers.add('Call-ID', req.headers.get('call-id')!);
  headers.add('CSeq', req.headers.get('cseq')!);
  for (const [k, v] of opts.headers ?? []) headers.add(k, v);
  if (opts.body && opts.contentType) headers.add('Content-Type', opts.contentType);
  return { kind: 'response', status, reason, headers, body: opts.body ?? Buffer.alloc(0) };
}

/** The top Via's branch (transaction key, RFC 3261 §17.2.3). */
export function topBranch(msg: SipMessage): string | undefined {
  const via = msg.headers.get('via');
  return via ? headerParams(via.split(',')[0]).params.branch : undefined;
}

/**
 * Incremental framing for SIP over TCP (RFC 3261 §18.3): messages are delimited by Content-Length. CRLF
 * keep-alives between messages are skipped. Throws SipParseError when the peer sends something unframeable (the
 * caller closes the connection); never holds more than one message's worth of bytes.
 */
export class SipStreamFramer {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): SipMessage[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: SipMessage[] = [];
    for (;;) {
      let i = 0;
      while (i < this.buf.length && (this.buf[i] === 0x0d || this.buf[i] === 0x0a)) i++;
      if (i) this.buf = this.buf.subarray(i);
      if (!this.buf.length) break;
      const end = findHeaderEnd(this.buf);
      if (!end) {
        if (this.buf.length > SIP_LIMITS.maxHeaderBytes) throw new SipParseError('header block too large');
        break;
      }
      if (end.at > SIP_LIMITS.maxHeaderBytes) throw new SipParseError('header block too large');
      const { contentLength } = parseHead(this.buf.subarray(0, end.at).toString('utf8'));
      const total = end.at + end.sep + (contentLength ?? 0);
      if (this.buf.length < total) break;
      out.push(parseMessage(this.buf.subarray(0, total)));
      this.buf = this.buf.subarray(total);
    }
    if (this.buf.length) this.buf = Buffer.from(this.buf); // do not pin a large chunk
    return out;
  }

  get buffered(): number {
    return this.buf.length;
  }
}
