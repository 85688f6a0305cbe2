import type { Camera } from '../../server/inventory/camera-types';

export const ROLES = ['admin', 'operator', 'reviewer', 'police110', 'technician'] as const;
export type Role = (typeof ROLES)[number];

export const ROLE_LABELS: Record<Role, string> = {
  admin: '管理员 Admin',
  operator: '值班员 Operator',
  reviewer: '审核员 Reviewer',
  police110: '110 接警 Police',
  technician: '运维 Technician',
};

/** Who may add, edit, import and export cameras (mirrors server/auth/roles.ts INVENTORY_EDITORS). */
export const INVENTORY_EDITORS: readonly Role[] = ['admin', 'technician'];
/** Who may decide whether a camera is shared or restricted (SHARING_DECIDERS). */
export const SHARING_DECIDERS: readonly Role[] = ['admin', 'police110'];

export interface SessionUser {
  id: string;
  username: string;
  role: Role;
  displayName: string | null;
}

export type { Camera, Sharing } from '../../server/inventory/camera-types';

/** Body of POST/PATCH /api/cameras: the editable fields plus write-only credentials. */
export type CameraInput = Partial<Omit<Camera, 'id' | 'hasCredentials' | 'status' | 'statusReason' | 'statusChangedAt' | 'lastSeenAt' | 'createdAt' | 'updatedAt'>> & {
  username?: string | null;
  password?: string | null;
};

export interface Facet { value: string; count: number }
export interface CameraFacets {
  districts: Facet[];
  streets: Facet[];
  owners: Facet[];
  statuses: Facet[];
  tags: Facet[];
}

export interface Page<T> { items: T[]; total: number }

export interface ImportRowError { row: number; column: string | null; message: string }
export interface ImportResult { created: number; updated: number; errors: ImportRowError[] }

export interface UserItem {
  id: string;
  username: string;
  displayName: string | null;
  role: Role;
  disabled: boolean;
  createdAt: string;
  lastLoginAt: string | null;
}

/** A message on GET /api/ws. */
export interface LiveMessage<P = unknown> {
  topic: string;
  cameraId?: string;
  payload: P;
}
