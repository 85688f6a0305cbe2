export const ROLES = ['admin', 'operator', 'reviewer', 'police110', 'technician'] as const;
export type Role = (typeof ROLES)[number];

export interface SessionUser {
  id: string;
  username: string;
  role: Role;
}

/** Restricted cameras are the police's: only police110 and admin see them, on every route. */
export function seesRestrictedCameras(role: Role): boolean {
  return role === 'admin' || role === 'police110';
}

/** Everyone who can log in sees shared cameras. */
export const ALL_ROLES: Role[] = [...ROLES];
export const INVENTORY_EDITORS: Role[] = ['admin', 'technician'];
export const SHARING_DECIDERS: Role[] = ['admin', 'police110'];
