import { CONTROL_CHARS } from '../http/text-rules.js';
import type { FieldErrors } from '../http/errors.js';
import { parseOnvifUrl, parseStreamUrl } from './camera-url.js';

export type { Camera } from './camera-types.js';


/** What a person may set on a camera (after validation). undefined = leave unchanged. */
export interface CameraInput {
  nationalId?: string | null;
  name?: string;
  owner?: string | null;
  sharing?: 'shared' | 'restricted';
  lat?: number | null;
  lng?: number | null;
  address?: string | null;
  district?: string | null;
  street?: string | null;
  community?: string | null;
  gridCode?: string | null;
  tags?: string[];
  rtspMain?: string | null;
  rtspSub?: string | null;
  onvifUrl?: string | null;
  mediaEngine?: 'native' | 'ffmpeg';
  username?: string | null;
  password?: string | null;
}

export const CAMERA_TEXT_FIELDS = ['owner', 'address', 'district', 'street', 'community'] as const;
const TEXT_LIMITS: Record<(typeof CAMERA_TEXT_FIELDS)[number], number> = { owner: 100, address: 200, district: 50, street: 50, community: 50 };
const CONTROL = CONTROL_CHARS; // C0, DEL, C1 (U+0085 …) and U+2028/U+2029

function cleanText(v: unknown, field: string, max: number, errors: FieldErrors): string | null | undefined {
  if (v === undefined) return undefined;
  if (v === null) return null;
  if (typeof v !== 'string') { errors[field] = 'must be text'; return undefined; }
  const t = v.trim();
  if (t === '') return null;
  if (t.length > max) { errors[field] = `must be at most ${max} characters`; return undefined; }
  if (CONTROL.test(t)) { errors[field] = 'must not contain control characters'; return undefined; }
  return t;
}

/**
 * Semantic validation shared by the JSON API and the CSV import, so both say the same thing about
 * the same mistake. Credentials embedded in a stream URL move to username/password.
 */
export function validateCameraInput(raw: CameraInput, creating: boolean): { value: CameraInput; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const value: CameraInput = {};

  if (raw.name !== undefined || creating) {
    const name = typeof raw.name === 'string' ? raw.name.trim() : '';
    if (!name) errors.name = 'is required';
    else if (name.length > 100) errors.name = 'must be at most 100 characters';
    else if (CONTROL.test(name)) errors.name = 'must not contain control characters';
    else value.name = name;
  }
  if (raw.nationalId !== undefined) {
    const id = raw.nationalId === null ? '' : String(raw.nationalId).trim();
    if (id === '') value.nationalId = null;
    else if (!/^[0-9]{20}$/.test(id)) errors.nationalId = 'must be the 20-digit national (GB/T 28181) ID';
    else value.nationalId = id;
  }
  if (raw.mediaEngine !== undefined) {
    if (raw.mediaEngine !== 'native' && raw.mediaEngine !== 'ffmpeg') errors.mediaEngine = 'must be native or ffmpeg (接入引擎只能是 native 或 ffmpeg)';
    else value.mediaEngine = raw.mediaEngine;
  }
  if (raw.sharing !== undefined) {
    if (raw.sharing !== 'shared' && raw.sharing !== 'restricted') errors.sharing = 'must be shared or restricted';
    else value.sharing = raw.sharing;
  }
  for (const f of CAMERA_TEXT_FIELDS) {
    const v = cleanText(raw[f], f, TEXT_LIMITS[f], errors);
    if (v !== undefined) value[f] = v;
  }
  for (const [f, lo, hi] of [['lat', -90, 90], ['lng', -180, 180]] as const) {
    const v = raw[f];
    if (v === undefined) continue;
    if (v === null) { value[f] = null; continue; }
    if (typeof v !== 'number' || !Number.isFinite(v)) errors[f] = 'must be a number';
    else if (v < lo || v > hi) errors[f] = `must be between ${lo} and ${hi} (WGS-84 degrees)`;
    else value[f] = v;
  }
  const latSet = value.lat ?? raw.lat;
  const lngSet = value.lng ?? raw.lng;
  if (creating && (latSet == null) !== (lngSet == null) && !errors.lat && !errors.lng) {
    errors[latSet == null ? 'lat' : 'lng'] = 'latitude and longitude go together';
  }
  if (raw.gridCode !== undefined) {
    const g = raw.gridCode === null ? '' : String(raw.gridCode).trim();
    if (g === '') value.gridCode = null;
    else if (!/^([0-9]{14}|[0-9A-Z]{15})$/.test(g)) errors.gridCode = 'must be a 14-digit unit-grid code (CJ/T 213) or a 15-character grid ID';
    else value.gridCode = g;
  }
  if (raw.tags !== undefined) {
    const tags = (raw.tags ?? []).map((t) => String(t).trim()).filter(Boolean);
    const bad = tags.find((t) => t.length > 32 || CONTROL.test(t) || /[;,]/.test(t));
    if (bad !== undefined) errors.tags = `tag "${bad.slice(0, 40)}" must be 1-32 characters without ; , or control characters`;
    else if (tags.length > 20) errors.tags = 'at most 20 tags';
    else value.tags = [...new Set(tags)];
  }
  let urlUser: string | undefined;
  let urlPass: string | undefined;
  for (const f of ['rtspMain', 'rtspSub', 'onvifUrl'] as const) {
    const v = raw[f];
    if (v === undefined) continue;
    if (v === null || String(v).trim() === '') { value[f] = null; continue; }
    try {
      const parsed = f === 'onvifUrl' ? parseOnvifUrl(String(v)) : parseStreamUrl(String(v));
      value[f] = parsed.url;
      urlUser ??= parsed.username;
      urlPass ??= parsed.password;
    } catch (err) {
      errors[f] = (err as Error).message;
    }
  }
  if (raw.username !== undefined) {
    const u = cleanText(raw.username, 'username', 64, errors);
    if (u !== undefined) value.username = u;
  } else if (urlUser) value.username = urlUser;
  if (raw.password !== undefined) {
    if (raw.password !== null && (typeof raw.password !== 'string' || raw.password.length > 128)) errors.password = 'must be text of at most 128 characters';
    else value.password = raw.password === '' ? null : raw.password;
  } else if (urlPass) value.password = urlPass;
  return { value, errors };
}
