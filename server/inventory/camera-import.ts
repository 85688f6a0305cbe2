import type { Db, Queryable } from '../db/db.js';
import { seesRestrictedCameras, type SessionUser } from '../auth/roles.js';
import { HttpError } from '../http/errors.js';
import { audit } from '../audit.js';
import { validateCameraInput, type CameraInput } from './camera-model.js';
import { COLUMN_OF_FIELD, decodeCsv, parseCameraCsv, type CsvRowError } from './camera-csv.js';
import type { CameraRepo } from './camera-repo.js';

export interface ImportResult {
  created: number;
  updated: number;
  errors: CsvRowError[];
}

interface Existing { id: string; name: string; national_id: string | null; sharing: string }

/**
 * CSV bulk import: upsert by national ID, else by name. All-or-nothing unless partial: with any bad
 * row nothing is written and every error is reported; partial writes the good rows and reports the rest.
 */
/** The cameras an import wrote (not part of the reply: for camera.changed). */
export interface ImportedIds {
  created: string[];
  updated: string[];
}

export async function importCamerasCsv(
  db: Db, repo: CameraRepo, user: SessionUser, body: Buffer, opts: { partial: boolean; ip?: string },
): Promise<{ status: 200 | 422; result: ImportResult; ids: ImportedIds }> {
  const none: ImportedIds = { created: [], updated: [] };
  const { rows, fatal } = parseCameraCsv(decodeCsv(body));
  if (fatal.length) return { status: 422, result: { created: 0, updated: 0, errors: fatal }, ids: none };
  if (rows.length === 0) throw new HttpError(422, 'The file has a header but no camera rows');

  const errors: CsvRowError[] = [];
  const good: Array<{ row: number; input: CameraInput }> = [];
  const firstRowOf = new Map<string, number>();
  for (const r of rows) {
    if (r.errors.length) { errors.push(...r.errors); continue; }
    const { value, errors: fieldErrors } = validateCameraInput(r.input, true);
    const rowErrors = Object.entries(fieldErrors).map(([f, m]) => ({ row: r.row, column: COLUMN_OF_FIELD[f] ?? f, message: m }));
    for (const [key, col] of [[value.nationalId, 'national_id'], [value.name, 'name']] as const) {
      if (!key) continue;
      const dup = firstRowOf.get(`${col}:${key}`);
      if (dup) rowErrors.push({ row: r.row, column: col, message: `duplicates row ${dup} (${key})` });
      else firstRowOf.set(`${col}:${key}`, r.row);
    }
    if (rowErrors.length) errors.push(...rowErrors);
    else good.push({ row: r.row, input: value });
  }
  if (errors.length && !opts.partial) return { status: 422, result: { created: 0, updated: 0, errors }, ids: none };

  const result = await db.tx(async (q) => {
    const existing = await loadExisting(q, good.map((g) => g.input));
    const updatedIds: string[] = [];
    const writeErrors: CsvRowError[] = [];
    const inserts: CameraInput[] = [];
    for (const g of good) {
      const match = (g.input.nationalId && existing.byNationalId.get(g.input.nationalId)) || existing.byName.get(g.input.name!);
      const problem = match ? checkUpdate(user, match, g.input, existing) : checkInsert(user, g.input, existing);
      if (problem) { writeErrors.push({ row: g.row, ...problem }); continue; }
      if (match) { await repo.updateQuietly(q, match.id, g.input); updatedIds.push(match.id); }
      else inserts.push(g.input);
    }
    if (writeErrors.length && !opts.partial) throw new ImportRejected(writeErrors);
    const createdIds = await repo.insertMany(q, inserts);
    const created = createdIds.length;
    const updated = updatedIds.length;
    await audit(q, { user, action: 'camera.import', targetType: 'camera', detail: { created, updated, rejected: errors.length + writeErrors.length, partial: opts.partial }, ip: opts.ip });
    return { created, updated, errors: [...errors, ...writeErrors].sort((a, b) => a.row - b.row), ids: { created: createdIds, updated: updatedIds } };
  }).catch((err) => {
    if (err instanceof ImportRejected) return { rejected: [...errors, ...err.errors].sort((a, b) => a.row - b.row) };
    throw err;
  });
  if ('rejected' in result) return { status: 422, result: { created: 0, updated: 0, errors: result.rejected }, ids: none };
  const { ids, ...reply } = result;
  return { status: 200, result: reply, ids };
}

class ImportRejected extends Error {
  constructor(readonly errors: CsvRowError[]) { super('import rejected'); }
}

async function loadExisting(q: Queryable, inputs: CameraInput[]) {
  const nationalIds = inputs.map((i) => i.nationalId).filter((v): v is string => !!v);
  const names = inputs.map((i) => i.name!);
  const res = await q.query<Existing>(
    `SELECT id, name, national_id, sharing FROM cameras WHERE national_id = ANY($1::text[]) OR name = ANY($2::text[])`, [nationalIds, names]);
  const byNationalId = new Map<string, Existing>();
  const byName = new Map<string, Existing>();
  for (const c of res.rows) {
    if (c.national_id) byNationalId.set(c.national_id, c);
    byName.set(c.name, c);
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
