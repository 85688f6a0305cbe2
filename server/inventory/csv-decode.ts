/**
 * Text encoding of an uploaded CSV, decided over the whole file and decoded slice by slice (the parser streams the
 * slices; no copy of the whole file as text is made). UTF-8 (with or without BOM) when the file is valid UTF-8; else
 * GBK, what Chinese spreadsheet exports often are, when GBK reads all of it; else line by line (a newline byte never
 * occurs inside a UTF-8 or GBK character), so that the lines that are neither keep U+FFFD and are refused by row
 * (camera-csv.ts) instead of garbling the file.
 */
import { isUtf8 } from 'node:buffer';
import iconv from 'iconv-lite';

export type CsvEncoding = 'utf8' | 'gbk' | 'by-line';

/** Bytes decoded and handed to the parser at a time (a few hundred rows). */
const SLICE = 64 * 1024;

export function withoutBom(body: Buffer): Buffer {
  return body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? body.subarray(3) : body;
}

export function detectCsvEncoding(body: Buffer): CsvEncoding {
  if (isUtf8(body)) return 'utf8';
  const gbk = iconv.getDecoder('gbk'); // keeps a lead byte that ends one slice for the next
  for (let i = 0; i < body.length; i += SLICE) if (gbk.write(body.subarray(i, i + SLICE)).includes('\ufffd')) return 'by-line';
  return (gbk.end() ?? '').includes('\ufffd') ? 'by-line' : 'gbk';
}

/** The file as text, in slices of about SLICE bytes (BOM removed). */
export function* decodeCsvSlices(raw: Buffer): Generator<string> {
  const body = withoutBom(raw);
  const encoding = detectCsvEncoding(body);
  if (encoding !== 'by-line') {
    const decoder = encoding === 'utf8' ? new TextDecoder('utf-8') : null;
    const gbk = encoding === 'gbk' ? iconv.getDecoder('gbk') : null;
    for (let i = 0; i < body.length; i += SLICE) {
      const slice = body.subarray(i, i + SLICE);
      yield decoder ? decoder.decode(slice, { stream: true }) : gbk!.write(slice);
    }
    const tail = decoder ? decoder.decode() : gbk!.end() ?? '';
    if (tail) yield tail;
    return;
  }
  let start = 0;
  let out: string[] = [];
  let bytes = 0;
  while (start <= body.length) {
    let end = body.indexOf(0x0a, start);
    if (end < 0) end = body.length;
    const line = body.subarray(start, end);
    out.push(isUtf8(line) ? line.toString('utf8') : iconv.decode(line, 'gbk'));
    bytes += line.length + 1;
    start = end + 1;
    if (bytes >= SLICE) {
      yield out.join('\n') + (start <= body.length ? '\n' : '');
      out = [];
      bytes = 0;
    }
  }
  if (out.length) yield out.join('\n');
}
