import type { Camera, CameraFacets, CameraInput, ImportResult, Page, Role, SessionUser, UserItem } from './types';

export type FieldErrors = Record<string, string>;

/** Every non-2xx answer: the server's {statusCode, error, message, fieldErrors?} as an Error. */
export class ApiError extends Error {
  readonly status: number;
  readonly fieldErrors: FieldErrors;
  /** The whole JSON body (e.g. the import's per-row errors on 422). */
  readonly body: unknown;
  constructor(status: number, message: string, fieldErrors: FieldErrors = {}, body: unknown = undefined) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.fieldErrors = fieldErrors;
    this.body = body;
  }
}

let onUnauthorized: (() => void) | null = null;
/** Called when a request other than login/me comes back 401 (the session ended). */
export function setUnauthorizedHandler(fn: (() => void) | null): void {
  onUnauthorized = fn;
}

function toApiError(status: number, body: unknown, fallback: string): ApiError {
  if (body && typeof body === 'object') {
    const b = body as { message?: unknown; fieldErrors?: unknown };
    const message = typeof b.message === 'string' && b.message ? b.message : fallback;
    const fieldErrors = b.fieldErrors && typeof b.fieldErrors === 'object' ? (b.fieldErrors as FieldErrors) : {};
    return new ApiError(status, message, fieldErrors, body);
  }
  return new ApiError(status, fallback, {}, body);
}

async function readBody(res: Response): Promise<unknown> {
  const text = await res.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export type Query = Record<string, string | number | boolean | undefined | null>;

export function queryString(q: Query = {}): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

interface RequestOptions {
  method?: string;
  query?: Query;
  json?: unknown;
  signal?: AbortSignal;
  /** Do not treat a 401 as "session ended" (login, me). */
  quiet401?: boolean;
}

export async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const init: RequestInit = { method: opts.method ?? 'GET', credentials: 'same-origin', signal: opts.signal, headers: { accept: 'application/json' } };
  if (opts.json !== undefined) {
    init.body = JSON.stringify(opts.json);
    init.headers = { ...init.headers, 'content-type': 'application/json' };
  }
  let res: Response;
  try {
    res = await fetch(path + queryString(opts.query), init);
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, '无法连接服务器 Cannot reach the server');
  }
  const body = await readBody(res);
  if (!res.ok) {
    if (res.status === 401 && !opts.quiet401) onUnauthorized?.();
    throw toApiError(res.status, body, `${res.status} ${res.statusText || 'error'}`);
  }
  return body as T;
}

/** POST a file with upload progress (fetch has none): XMLHttpRequest. */
export function upload<T>(path: string, file: Blob, contentType: string, query: Query, onProgress: (fraction: number) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path + queryString(query));
    xhr.setRequestHeader('content-type', contentType);
    xhr.setRequestHeader('accept', 'application/json');
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    xhr.onerror = () => reject(new ApiError(0, '无法连接服务器 Cannot reach the server'));
    xhr.onload = () => {
      let body: unknown;
      try { body = xhr.responseText ? JSON.parse(xhr.responseText) : undefined; } catch { body = xhr.responseText; }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body as T);
      else {
        if (xhr.status === 401) onUnauthorized?.();
        reject(toApiError(xhr.status, body, `${xhr.status} ${xhr.statusText || 'error'}`));
      }
    };
    xhr.send(file);
  });
}

export interface CameraQuery extends Query {
  q?: string; status?: string; district?: string; street?: string; grid?: string; owner?: string; tag?: string;
  sharing?: string; sort?: 'name' | 'district' | 'status' | 'updatedAt'; limit?: number; offset?: number;
}

export const api = {
  login: (username: string, password: string) =>
    request<{ user: SessionUser }>('/api/auth/login', { method: 'POST', json: { username, password }, quiet401: true }),
  logout: () => request<void>('/api/auth/logout', { method: 'POST', quiet401: true }),
  me: () => request<SessionUser>('/api/auth/me', { quiet401: true }),

  cameras: (query: CameraQuery, signal?: AbortSignal) => request<Page<Camera>>('/api/cameras', { query, signal }),
  facets: (signal?: AbortSignal) => request<CameraFacets>('/api/cameras/facets', { signal }),
  camera: (id: string, signal?: AbortSignal) => request<Camera>(`/api/cameras/${encodeURIComponent(id)}`, { signal }),
  createCamera: (body: CameraInput) => request<Camera>('/api/cameras', { method: 'POST', json: body }),
  updateCamera: (id: string, body: CameraInput) => request<Camera>(`/api/cameras/${encodeURIComponent(id)}`, { method: 'PATCH', json: body }),
  deleteCamera: (id: string) => request<void>(`/api/cameras/${encodeURIComponent(id)}`, { method: 'DELETE' }),
  importCameras: (file: Blob, partial: boolean, onProgress: (f: number) => void) =>
    upload<ImportResult>('/api/cameras/import', file, 'text/csv', { partial: partial || undefined }, onProgress),
  exportUrl: (query: CameraQuery) => '/api/cameras/export' + queryString({ ...query, limit: undefined, offset: undefined }),

  users: (query: { q?: string; role?: Role | ''; limit?: number; offset?: number }, signal?: AbortSignal) =>
    request<Page<UserItem>>('/api/users', { query, signal }),
  createUser: (body: { username: string; password: string; role: Role; displayName?: string }) =>
    request<UserItem>('/api/users', { method: 'POST', json: body }),
  updateUser: (id: string, body: { role?: Role; disabled?: boolean; password?: string; displayName?: string | null }) =>
    request<UserItem>(`/api/users/${encodeURIComponent(id)}`, { method: 'PATCH', json: body }),
};
