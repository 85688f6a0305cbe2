import { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify/sync';
import { decodeCsvSlices } from './csv-decode.js';
import type { Camera, CameraInput } from './camera-model.js';

/** CSV columns in export order; import also accepts the Chinese headers spreadsheets use. */
export const CSV_COLUMNS = [
  'national_id', 'name', 'owner', 'sharing', 'lat', 'lng', 'address', 'district', 'street', 'community',
  'grid_code', 'tags', 'rtsp_main', 'rtsp_sub', 'onvif_url', 'username', 'password',
] as const;
export type CsvColumn = (typeof CSV_COLUMNS)[number];
/** Credentials are accepted on import and never exported. */
export const EXPORT_COLUMNS = CSV_COLUMNS.filter((c) => c !== 'username' && c !== 'password');

const ALIASES: Record<string, CsvColumn> = {
  国标编码: 'national_id', 国标id: 'national_id', 设备编码: 'national_id', 名称: 'name', 点位名称: 'name', 摄像机名称: 'name',
  权属单位: 'owner', 所属单位: 'owner', 共享: 'sharing', 共享属性: 'sharing', 纬度: 'lat', 经度: 'lng', 地址: 'address',
  区: 'district', 区县: 'district', 街道: 'street', 社区: 'community', 网格: 'grid_code', 网格编码: 'grid_code',
  标签: 'tags', 主码流: 'rtsp_main', 子码流: 'rtsp_sub', onvif: 'onvif_url', onvif地址: 'onvif_url', 用户名: 'username', 密码: 'password',
};

const FIELD_OF: Record<CsvColumn, keyof CameraInput> = {
  national_id: 'nationalId', name: 'name', owner: 'owner', sharing: 'sharing', lat: 'lat', lng: 'lng', address: 'address',
  district: 'district', street: 'street', community: 'community', grid_code: 'gridCode', tags: 'tags', rtsp_main: 'rtspMain',
  rtsp_sub: 'rtspSub', onvif_url: 'onvifUrl', username: 'username', password: 'password',
};
export const COLUMN_OF_FIELD = Object.fromEntries(Object.entries(FIELD_OF).map(([c, f]) => [f, c])) as Record<string, CsvColumn>;

export interface CsvRowError {
  /** 1-based line in the file as a spreadsheet shows it (the header is row 1). */
  row: number;
  column: string | null;
  message: string;
}

export interface ParsedCsvRow {
  row: number;
  input: CameraInput;
  /** Column-level problems found while reading text into typed values. */
  errors: CsvRowError[];
}

/**
 * Spreadsheet formula injection: a cell that starts with = + - @ TAB or CR is a formula to Excel and WPS (a camera
 * named =HYPERLINK(…) would run when a technician opens the export). Such cells are exported with a leading
 * apostrophe, which spreadsheets show as text; import takes exactly one apostrophe off again, so an export imports
 * back unchanged (a value that itself starts with apostrophes before a formula character gets one more).
 */
const FORMULA_START = /^'*[=+\-@\t\r]/;
export function neutraliseFormula(cell: string): string {
  return FORMULA_START.test(cell) ? `'${cell}` : cell;
}
export function restoreFormula(cell: string): string {
  return /^'+[=+\-@\t\r]/.test(cell) ? cell.slice(1) : cell;
}

/** U+FFFD in a decoded cell: the bytes were neither UTF-8 nor GBK (iconv-lite substitutes what it cannot read). */
const UNDECODABLE = '\ufffd';

function normaliseHeader(h: string): string {
  return h.trim().toLowerCase().replace(/\s+/g, '_');
}

/** Thrown by csvRecords and readHeader: the file as a whole cannot be imported (nothing is). */
export class CsvFileError extends Error {
  constructor(readonly fatal: CsvRowError[]) { super(fatal[0]?.message ?? 'invalid CSV'); }
}

/**
 * The file's records, streamed: decoded slice by slice (csv-decode.ts) into csv-parse's streaming parser. Throws
 * CsvFileError for a file that is not CSV (with the line where it broke) or has no header.
 */
export async function* csvRecords(body: Buffer): AsyncGenerator<string[]> {
  const parser = Readable.from(decodeCsvSlices(body)).pipe(parse({ skip_empty_lines: true, relax_column_count: true, bom: true, trim: false }));
  let any = false;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      any = true;
      yield record;
    }
  } catch (err) {
    const e = err as { lines?: number; message: string };
    throw new CsvFileError([{ row: e.lines ?? 1, column: null, message: `The file is not valid CSV: ${e.message}` }]);
  } finally {
    parser.destroy();
  }
  if (!any) throw new CsvFileError([{ row: 1, column: null, message: 'The file is empty: expected a header row' }]);
}

/** The columns the header row names; CsvFileError listing every problem with it. */
export function readHeader(cells: string[]): CsvColumn[] {
  if (cells.some((h) => h.includes(UNDECODABLE))) {
    throw new CsvFileError([{ row: 1, column: null, message: 'The header row is neither UTF-8 nor GBK text: save the file as UTF-8 CSV / 表头既不是 UTF-8 也不是 GBK 编码，请另存为 UTF-8 CSV' }]);
  }
  const header = cells.map((h) => {
    const key = normaliseHeader(h);
    return (CSV_COLUMNS as readonly string[]).includes(key) ? (key as CsvColumn) : ALIASES[key] ?? ALIASES[h.trim()];
  });
  const fatal: CsvRowError[] = [];
  cells.forEach((h, i) => {
    if (!header[i]) fatal.push({ row: 1, column: h, message: `Unknown column "${h}"; known columns: ${CSV_COLUMNS.join(', ')}` });
  });
  const seen = new Set<string>();
  header.forEach((c, i) => {
    if (c && seen.has(c)) fatal.push({ row: 1, column: cells[i], message: `Column ${c} appears twice` });
    if (c) seen.add(c);
  });
  if (!seen.has('name')) fatal.push({ row: 1, column: 'name', message: 'The name column is required' });
  if (fatal.length) throw new CsvFileError(fatal);
  return header as CsvColumn[];
}

/** One data row read into typed values (rowNo: 1-based, the header is row 1). */
export function readRow(header: CsvColumn[], cells: string[], rowNo: number): ParsedCsvRow {
  const errors: CsvRowError[] = [];
  if (cells.length !== header.length) {
    errors.push({ row: rowNo, column: null, message: `Expected ${header.length} columns, found ${cells.length}` });
    return { row: rowNo, input: {}, errors };
  }
  if (cells.some((c) => c.includes(UNDECODABLE))) {
    errors.push({ row: rowNo, column: null, message: 'This row\'s bytes are neither UTF-8 nor GBK text (the names would come out garbled): save the file as UTF-8 CSV / 该行既不是 UTF-8 也不是 GBK 编码' });
    return { row: rowNo, input: {}, errors };
  }
  const input: Record<string, unknown> = {};
  header.forEach((col, i) => {
    const raw = restoreFormula(cells[i]);
    const cell = raw.trim();
    const field = FIELD_OF[col];
    if (col === 'lat' || col === 'lng') {
      if (cell === '') input[field] = null;
      else if (!/^[-+]?\d+(\.\d+)?$/.test(cell)) errors.push({ row: rowNo, column: col, message: 'must be a number' });
      else input[field] = Number(cell);
    } else if (col === 'tags') {
      input[field] = cell === '' ? [] : cell.split(/[;；]/).map((t) => t.trim()).filter(Boolean);
    } else if (col === 'sharing') {
      input[field] = cell === '' ? undefined : ({ 共享: 'shared', 受限: 'restricted', 不共享: 'restricted' } as Record<string, string>)[cell] ?? cell.toLowerCase();
    } else if (col === 'password' || col === 'username') {
      // Empty credential cells mean "keep what the camera has", not "erase it".
      input[field] = cell === '' ? undefined : raw;
    } else {
      input[field] = cell === '' ? null : cell;
    }
  });
  return { row: rowNo, input: input as CameraInput, errors };
}

export function camerasToCsv(cameras: Camera[]): string {
  const records = cameras.map((c) => [
    c.nationalId ?? '', c.name, c.owner ?? '', c.sharing, c.lat ?? '', c.lng ?? '', c.address ?? '', c.district ?? '',
    c.street ?? '', c.community ?? '', c.gridCode ?? '', c.tags.join(';'), c.rtspMain ?? '', c.rtspSub ?? '', c.onvifUrl ?? '',
  ]);
  // The BOM makes Excel read the file as UTF-8; import strips it.
  return '\ufeff' + stringify([EXPORT_COLUMNS as unknown as string[], ...records.map((r) => r.map((v) => neutraliseFormula(String(v))))]);
}
