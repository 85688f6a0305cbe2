/**
 * The little XML the simulator's SOAP services need: escaping, and finding one element by local name
 * (any prefix, attributes read). Requests from real clients are small and flat, so regexes on the text
 * are enough; nothing here is a general XML parser.
 */

export function xmlEscape(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

export function xmlUnescape(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    return ({ lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" })[e]!;
  });
}

/** Text content of the first non-empty element with this local name (raw, not unescaped). */
export function tag(xml: string, name: string): string | undefined {
  const m = new RegExp(`<(?:[\\w-]+:)?${name}(?:\\s[^>]*)?>([\\s\\S]*?)</(?:[\\w-]+:)?${name}>`).exec(xml);
  return m?.[1].trim();
}

export interface XmlElement {
  /** Attributes by local name (prefixes and xmlns declarations dropped), unescaped. */
  attrs: Record<string, string>;
  /** Raw inner text ('' for a self-closing element). */
  inner: string;
}

/** First element with this local name, self-closing (`<PanTilt x="1" y="0"/>`) or not. */
export function element(xml: string, name: string): XmlElement | undefined {
  const m = new RegExp(`<(?:[\\w-]+:)?${name}((?:\\s[^>]*?)?)(?:/>|>([\\s\\S]*?)</(?:[\\w-]+:)?${name}\\s*>)`).exec(xml);
  if (!m) return undefined;
  const attrs: Record<string, string> = {};
  for (const a of m[1].matchAll(/([\w.:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    if (a[1] === 'xmlns' || a[1].startsWith('xmlns:')) continue;
    attrs[a[1].replace(/^[\w.-]+:/, '')] = xmlUnescape(a[2] ?? a[3] ?? '');
  }
  return { attrs, inner: m[2] ?? '' };
}

/** xs:duration as ONVIF uses it (PT5S, PT0.5S, PT1M30S, P0DT0H0M2S) in ms; undefined if malformed, negative or in years/months. */
export function parseDurationMs(s: string): number | undefined {
  const t = s.trim();
  const m = /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(t);
  if (!m || t === 'P' || t.endsWith('T')) return undefined;
  const [d, h, mi, sec] = m.slice(1).map((x) => (x ? Number(x) : 0));
  return ((d * 24 + h) * 60 + mi) * 60_000 + sec * 1000;
}

/** xs:dateTime in ms since the epoch; no zone means UTC (cameras and their clients run on UTC). Undefined if malformed. */
export function parseDateTimeMs(s: string): number | undefined {
  const t = s.trim();
  const m = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(Z|[+-]\d{2}:\d{2})?$/.exec(t);
  if (!m) return undefined;
  const ms = Date.parse(m[1] ? t : `${t}Z`);
  return Number.isFinite(ms) ? ms : undefined;
}

/** Content of the SOAP Body: operations search there, since the WS-Security header has elements of its own. */
export function soapBody(xml: string): string {
  return /<(?:[\w-]+:)?Body(?:\s[^>]*)?>([\s\S]*)<\/(?:[\w-]+:)?Body>/.exec(xml)?.[1] ?? xml;
}
