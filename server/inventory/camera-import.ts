import type { Db, Queryable } from '../db/db.js';
import { seesRestrictedCameras, type SessionUser } from '../auth/roles.js';
import { HttpError } from '../http/errors.js';
import { audit } from '../audit.js';
import { validateCameraInput, type CameraInput } from './camera-model.js';
import { COLUMN_OF_FIELD, CsvFileError, csvRecords, readHeader, readRow, type CsvColumn, type CsvRowError } from './camera-csv.js';
import type { CameraRepo } from './camera-repo.js';

export interface ImportResult {
  created: number;
  updated: number;
  errors: CsvRowError[];
}

interface Existing { id: string; name: string; national_id: string | null; sharing: string }

/** The largest CSV body the import route reads (about 140,000 cameras at a typical 235 bytes a row). */
export const IMPORT_MAX_BYTES = 32 * 1024 * 1024;
/** Rows checked and written at a time; the event loop gets a turn between batches. */
const BATCH = 1000;
/** Rows checked between two turns of the event loop in the first pass. */
const YIELD_EVERY = 250;

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The cameras an import wrote (not part of the reply: for camera.changed). */
export interface ImportedIds {
  created: string[];
  updated: string[];
}

interface CheckedRow { row: number; value: CameraInput; errors: CsvRowError[] }

/** The file's data rows, read and validated one by one (the header checked first; CsvFileError for the file). */
async function* checkedRows(body: Buffer): AsyncGenerator<CheckedRow> {
  let header: CsvColumn[] | undefined;
  let rowNo = 0;
  for await (const cells of csvRecords(body)) {
    rowNo++;
    if (!header) { header = readHeader(cells); continue; }
    const r = readRow(header, cells, rowNo);
    if (r.errors.length) { yield { row: r.row, value: {}, errors: r.errors }; continue; }
    const { value, errors } = validateCameraInput(r.input, true);
    yield { row: r.row, value, errors: Object.entries(errors).map(([f, m]) => ({ row: r.row, column: COLUMN_OF_FIELD[f] ?? f, message: m })) };
    if (rowNo % YIELD_EVERY === 0) await turn();
  }
}

/** Outside any transaction: every row's problems, duplicates within the file, and the good rows' cameras. */
async function scan(body: Buffer): Promise<{ rows: number; errors: CsvRowError[]; good: Array<{ row: number; value: CameraInput }>; nationalIds: string[]; names: string[] }> {
  const errors: CsvRowError[] = [];
  const good: Array<{ row: number; value: CameraInput }> = [];
  const firstRowOf = new Map<string, number>();
  const nationalIds: string[] = [];
  const names: string[] = [];
  let rows = 0;
  for await (const r of checkedRows(body)) {
    rows++;
    const rowErrors = r.errors;
    // a row with other problems still claims its keys (a later row with the same name is a duplicate of it)
    for (const [key, col] of [[r.value.nationalId, 'national_id'], [r.value.name, 'name']] as const) {
      if (!key) continue;
      const dup = firstRowOf.get(`${col}:${key}`);
      if (dup) rowErrors.push({ row: r.row, column: col, message: `duplicates row ${dup} (${key})` });
      else firstRowOf.set(`${col}:${key}`, r.row);
    }
    if (rowErrors.length) { errors.push(...rowErrors); continue; }
    if (r.value.nationalId) nationalIds.push(r.value.nationalId);
    names.push(r.value.name!);
    good.push({ row: r.row, value: r.value });
  }
  return { rows, errors, good, nationalIds, names };
}

/**
 * CSV bulk import: upsert by national ID, else by name. All-or-nothing unless partial: with any bad row nothing is
 * written and every error is reported; partial writes the good rows and reports the rest.
 *
 * Large files (a provincial platform's 50,000-camera export) are streamed: the body's bytes are held (at most
 * IMPORT_MAX_BYTES), never the file as text or as a table of cells: rows are parsed from decoded slices and checked
 * one by one outside any transaction, keeping only the checked cameras (a file with errors is refused before anything
 * is locked); then they are written BATCH per statement in one transaction. The event loop gets a turn every
 * YIELD_EVERY rows and between batches, so the node keeps answering during an import.
 */
export async function importCamerasCsv(
  db: Db, repo: CameraRepo, user: SessionUser, body: Buffer, opts: { partial: boolean; ip?: string },
): Promise<{ status: 200 | 422; result: ImportResult; ids: ImportedIds }> {
  const none: ImportedIds = { created: [], updated: [] };
  const refused = (errors: CsvRowError[]) => ({ status: 422 as const, result: { created: 0, updated: 0, errors }, ids: none });
  let checked: Awaited<ReturnType<typeof scan>>;
  try {
    checked = await scan(body);
  } catch (err) {
    if (err instanceof CsvFileError) return refused(err.fatal);
    throw err;
  }
  if (checked.rows === 0) throw new HttpError(422, 'The file has a header but no camera rows');
  const { errors, good } = checked;
  if (errors.length && !opts.partial) return refused(errors);

  const result = await db.tx(async (q) => {
    // looked up once, before anything is written (as a row-by-row import would see the inventory)
    const existing = await loadExisting(q, checked.nationalIds, checked.names);
    // every row's fate first (in memory): an all-or-nothing import with a clash writes nothing at all
    const matchedBy = new Map<string, number>();
    const writeErrors: CsvRowError[] = [];
    const plan: Array<{ input: CameraInput; id?: string }> = [];
    for (const r of good) {
      const g = r.value;
      const match = (g.nationalId && existing.byNationalId.get(g.nationalId)) || existing.byName.get(g.name!);
      let problem = match ? checkUpdate(user, match, g, existing) : checkInsert(user, g, existing);
      const twice = match && matchedBy.get(match.id);
      if (!problem && twice) problem = { column: g.nationalId ? 'national_id' : 'name', message: `matches the same camera as row ${twice}` };
      if (problem) { writeErrors.push({ row: r.row, ...problem }); continue; }
      if (match) matchedBy.set(match.id, r.row);
      plan.push({ input: g, id: match?.id });
    }
    if (writeErrors.length && !opts.partial) throw new ImportRejected(writeErrors);
    good.length = 0;
    const createdIds: string[] = [];
    const updatedIds: string[] = [];
    for (let i = 0; i < plan.length; i += BATCH) {
      const batch = plan.slice(i, i + BATCH);
      const inserts = batch.filter((x) => !x.id).map((x) => x.input);
      const updates = batch.filter((x) => x.id).map((x) => ({ id: x.id!, input: x.input }));
      if (inserts.length) createdIds.push(...(await repo.insertMany(q, inserts)));
      if (updates.length) { await repo.updateMany(q, updates); updatedIds.push(...updates.map((u) => u.id)); }
      await turn();
    }
    const created = createdIds.length;
    const updated = updatedIds.length;
    await audit(q, { user, action: 'camera.import', targetType: 'camera', detail: { created, updated, rejected: errors.length + writeErrors.length, partial: opts.partial }, ip: opts.ip });
    return { created, updated, errors: [...errors, ...writeErrors].sort((a, b) => a.row - b.row), ids: { created: createdIds, updated: updatedIds } };
  }).catch((err) => {
    if (err instanceof ImportRejected) return { rejected: [...errors, ...err.errors].sort((a, b) => a.row - b.row) };
    throw err;
  });
  if ('rejected' in result) return refused(result.rejected);
  const { ids, ...reply } = result;
  return { status: 200, result: reply, ids };
}

class ImportRejected extends Error {
  constructor(readonly errors: CsvRowError[]) { super('import rejected'); }
}

async function loadExisting(q: Queryable, nationalIds: string[], names: string[]) {
  const byNationalId = new Map<string, Existing>();
  const byName = new Map<string, Existing>();
  const CHUNK = 5000;
  for (let i = 0; i < Math.max(nationalIds.length, names.length); i += CHUNK) {
    const res = await q.query<Existing>(
      `SELECT id, name, national_id, sharing FROM cameras WHERE national_id = ANY($1::text[]) OR name = ANY($2::text[])`,
      [nationalIds.slice(i, i + CHUNK), names.slice(i, i + CHUNK)]);
    for (const c of res.rows) {
      if (c.national_id) byNationalId.set(c.national_id, c);
      byName.set(c.name, c);
    }
  }
  return { byNationalId, byName };
}

type Lookup = Awaited<ReturnType<typeof loadExisting>>;

function checkUpdate(user: SessionUser, match: Existing, input: CameraInput, existing: Lookup): Omit<CsvRowError, 'row'> | null {
  if (match.sharing === 'restricted' && !seesRestrictedCameras(user.role)) {
    return { column: input.nationalId ? 'national_id' : 'name', message: 'matches a camera you may not change' };
  }
  if (input.sharing && input.sharing !== match.sharing && !seesRestrictedCameras(user.role)) {
    return { column: 'sharing', message: 'only police110 or admin may change sharing' };
  }
  const nameOwner = existing.byName.get(input.name!);
  if (nameOwner && nameOwner.id !== match.id) return { column: 'name', message: `name is already used by another camera` };
  return null;
}

function checkInsert(user: SessionUser, input: CameraInput, existing: Lookup): Omit<CsvRowError, 'row'> | null {
  if (input.nationalId && existing.byNationalId.has(input.nationalId)) return { column: 'national_id', message: 'national ID is already used' };
  if (existing.byName.has(input.name!)) return { column: 'name', message: 'name is already used by another camera' };
  if (input.sharing === 'restricted' && !seesRestrictedCameras(user.role)) return { column: 'sharing', message: 'only police110 or admin may register a restricted camera' };
  return null;
}
