/**
 * MANSCDP bodies (GB/T 28181 appendix A): small XML documents in GB2312/GB18030 (most devices, the 2016 edition's
 * default) or UTF-8. A deliberately small parser for that subset — elements, attributes, text, the five entities
 * and numeric references — with hard limits on size, depth and element count, and no DTDs (no entity expansion),
 * because bodies come from devices on the other side of a network boundary.
 */
import iconv from 'iconv-lite';

export class ManscdpError extends Error {
  constructor(reason: string) {
    super(`malformed MANSCDP XML: ${reason}`);
    this.name = 'ManscdpError';
  }
}

export const XML_LIMITS = { maxBytes: 64 * 1024, maxDepth: 12, maxElements: 10_000 };

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

export type Charset = 'gb18030' | 'utf8';

/** Decode a body: the XML declaration's encoding, else UTF-8; bytes that are not valid UTF-8 are read as GB18030 (devices that mislabel). */
export function decodeBody(buf: Buffer): { text: string; charset: Charset; mislabelled: boolean } {
  const head = buf.subarray(0, 100).toString('latin1');
  const declared = /encoding\s*=\s*["']([A-Za-z0-9_-]+)["']/i.exec(head)?.[1]?.toLowerCase();
  const gb = declared !== undefined && /^(gb2312|gbk|gb18030|gb_2312-80|cp936)$/.test(declared);
  if (gb) return { text: iconv.decode(buf, 'gb18030'), charset: 'gb18030', mislabelled: false };
  const utf = buf.toString('utf8');
  if (!utf.includes('\ufffd')) return { text: utf, charset: 'utf8', mislabelled: false };
  return { text: iconv.decode(buf, 'gb18030'), charset: 'gb18030', mislabelled: true };
}

const ENT: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function unescape(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-z]{2,4});/g, (m, e: string) => {
    if (e[0] === '#') {
      const cp = e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : '';
    }
    return ENT[e] ?? m;
  });
}

export function parseXml(text: string): XmlElement {
  if (text.length > XML_LIMITS.maxBytes) throw new ManscdpError('document too large');
  let i = 0;
  const n = text.length;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let count = 0;
  while (i < n) {
    const lt = text.indexOf('<', i);
    if (lt < 0) {
      if (stack.length) stack[stack.length - 1].text += unescape(text.slice(i));
      break;
    }
    if (lt > i && stack.length) stack[stack.length - 1].text += unescape(text.slice(i, lt));
    if (text.startsWith('<?', lt)) {
      const end = text.indexOf('?>', lt);
      if (end < 0) throw new ManscdpError('unterminated declaration');
      i = end + 2;
      continue;
    }
    if (text.startsWith('<!--', lt)) {
      const end = text.indexOf('-->', lt);
      if (end < 0) throw new ManscdpError('unterminated comment');
      i = end + 3;
      continue;
    }
    if (text.startsWith('<![CDATA[', lt)) {
      const end = text.indexOf(']]>', lt);
      if (end < 0 || !stack.length) throw new ManscdpError('bad CDATA');
      stack[stack.length - 1].text += text.slice(lt + 9, end);
      i = end + 3;
      continue;
    }
    if (text.startsWith('<!', lt)) throw new ManscdpError('DTDs are not accepted');
    const gt = text.indexOf('>', lt);
    if (gt < 0) throw new ManscdpError('unterminated tag');
    const tag = text.slice(lt + 1, gt);
    i = gt + 1;
    if (tag.startsWith('/')) {
      const name = tag.slice(1).trim();
      const open = stack.pop();
      if (!open || open.name !== name) throw new ManscdpError(`mismatched </${name.slice(0, 40)}>`);
      open.text = open.text.trim();
      if (!stack.length) root = open;
      continue;
    }
    const selfClosing = tag.endsWith('/');
    const body = selfClosing ? tag.slice(0, -1) : tag;
    const m = /^([A-Za-z_][\w.:-]*)([\s\S]*)$/.exec(body);
    if (!m) throw new ManscdpError('bad tag');
    const el: XmlElement = { name: m[1], attrs: {}, children: [], text: '' };
    const attrRe = /([A-Za-z_][\w.:-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
    let a: RegExpExecArray | null;
    while ((a = attrRe.exec(m[2]))) el.attrs[a[1]] = unescape(a[2] ?? a[3]);
    if (++count > XML_LIMITS.maxElements) throw new ManscdpError('too many elements');
    if (stack.length) stack[stack.length - 1].children.push(el);
    else if (root) throw new ManscdpError('more than one root element');
    if (selfClosing) {
      if (!stack.length) root = el;
    } else {
      stack.push(el);
      if (stack.length > XML_LIMITS.maxDepth) throw new ManscdpError('nested too deeply');
    }
  }
  if (stack.length) throw new ManscdpError(`unclosed <${stack[stack.length - 1].name.slice(0, 40)}>`);
  if (!root) throw new ManscdpError('no root element');
  return root;
}

/** First child by name (case-insensitive: devices vary). */
export function child(el: XmlElement | undefined, name: string): XmlElement | undefined {
  if (!el) return undefined;
  const n = name.toLowerCase();
  return el.children.find((c) => c.name.toLowerCase() === n);
}

export function textOf(el: XmlElement | undefined, name: string): string | undefined {
  const c = child(el, name);
  return c ? c.text : undefined;
}

/** A MANSCDP document: Query / Control / Notify / Response with CmdType, SN, DeviceID. */
export interface ManscdpDoc {
  root: 'Query' | 'Control' | 'Notify' | 'Response';
  cmdType: string;
  sn: number;
  deviceId: string;
  el: XmlElement;
  charset: Charset;
  mislabelled: boolean;
}

export function parseManscdp(buf: Buffer): ManscdpDoc {
  if (buf.length > XML_LIMITS.maxBytes) throw new ManscdpError('document too large');
  const { text, charset, mislabelled } = decodeBody(buf);
  const el = parseXml(text);
  if (!['Query', 'Control', 'Notify', 'Response'].includes(el.name)) throw new ManscdpError(`unknown root <${el.name.slice(0, 40)}>`);
  const cmdType = textOf(el, 'CmdType');
  const sn = Number(textOf(el, 'SN'));
  const deviceId = textOf(el, 'DeviceID');
  if (!cmdType || !/^[A-Za-z]{1,40}$/.test(cmdType)) throw new ManscdpError('no CmdType');
  if (!Number.isInteger(sn) || sn < 0) throw new ManscdpError('no SN');
  if (!deviceId || deviceId.length > 64) throw new ManscdpError('no DeviceID');
  return { root: el.name as ManscdpDoc['root'], cmdType, sn, deviceId, el, charset, mislabelled };
}

const esc = (s: string) => s.replace(/[<>&"']/g, (c) => `&${({ '<': 'lt', '>': 'gt', '&': 'amp', '"': 'quot', "'": 'apos' } as const)[c as '<']};`);

export type XmlValue = string | number | XmlNode | XmlNode[] | undefined;
export interface XmlNode {
  [name: string]: XmlValue;
}

function render(name: string, v: XmlValue, out: string[], attrs = ''): void {
  if (v === undefined) return;
  if (Array.isArray(v)) {
    out.push(`<${name}${attrs}>`);
    for (const item of v) render('Item', item, out);
    out.push(`</${name}>`);
  } else if (typeof v === 'object') {
    out.push(`<${name}${attrs}>`);
    for (const [k, c] of Object.entries(v)) {
      if (k.startsWith('@')) continue;
      const list = Array.isArray(c);
      render(k, c, out, list ? ` Num="${(c as XmlNode[]).length}"` : '');
    }
    out.push(`</${name}>`);
  } else out.push(`<${name}${attrs}>${esc(String(v))}</${name}>`);
}

/** Build a MANSCDP body; arrays become `<X Num="n"><Item>…</Item>…</X>`. GB18030 unless utf8 is asked for. */
export function buildManscdp(root: ManscdpDoc['root'], fields: XmlNode, charset: Charset = 'gb18030'): Buffer {
  const out: string[] = [`<?xml version="1.0" encoding="${charset === 'utf8' ? 'UTF-8' : 'GB2312'}"?>`];
  render(root, fields, out);
  const text = out.join('\r\n') + '\r\n';
  return charset === 'utf8' ? Buffer.from(text, 'utf8') : iconv.encode(text, 'gb18030');
}

export const MANSCDP_CONTENT_TYPE = 'Application/MANSCDP+xml';
