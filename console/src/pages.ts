import { lazy, type ComponentType, type LazyExoticComponent } from 'react';
import { INVENTORY_EDITORS, ROLES, type Role } from './types';

/**
 * Every page of the console, in nav order. Adding a page = one file in pages/ + one line here:
 * the router, the role check and the nav entry (for `nav` pages) all come from this list.
 */
export interface PageDef {
  path: string;
  /** Nav label (Chinese) and its English gloss; pages without one are reached by links only. */
  nav?: { zh: string; en: string };
  roles: readonly Role[];
  Component: LazyExoticComponent<ComponentType>;
}

const ALL = ROLES;

export const PAGES: PageDef[] = [
  // The first page a role may open is where it lands after login: operators on the wall, reviewers on the queue.
  { path: '/wall', nav: { zh: '视频墙', en: 'Wall' }, roles: ['operator', 'admin', 'police110'], Component: lazy(() => import('./pages/WallPage')) },
  { path: '/review', nav: { zh: '事件审核', en: 'Review' }, roles: ['reviewer', 'admin'], Component: lazy(() => import('./pages/ReviewPage')) },
  { path: '/cases', nav: { zh: '案卷', en: 'Cases' }, roles: ['operator', 'admin', 'reviewer'], Component: lazy(() => import('./pages/CasesPage')) },
  { path: '/cases/:id', roles: ['operator', 'admin', 'reviewer'], Component: lazy(() => import('./pages/CasePage')) },
  { path: '/cameras', nav: { zh: '点位台账', en: 'Cameras' }, roles: ALL, Component: lazy(() => import('./pages/CamerasPage')) },
  { path: '/cameras/new', roles: INVENTORY_EDITORS, Component: lazy(() => import('./pages/CameraFormPage')) },
  { path: '/cameras/import', roles: INVENTORY_EDITORS, Component: lazy(() => import('./pages/CameraImportPage')) },
  { path: '/cameras/:id', roles: ALL, Component: lazy(() => import('./pages/CameraFormPage')) },
  { path: '/rules', nav: { zh: '分析规则', en: 'Rules' }, roles: ['technician', 'admin'], Component: lazy(() => import('./pages/RulesPage')) },
  { path: '/fleet', nav: { zh: '设备健康', en: 'Fleet health' }, roles: ['technician', 'admin'], Component: lazy(() => import('./pages/FleetPage')) },
  { path: '/cluster', nav: { zh: '集群节点', en: 'Cluster' }, roles: ['admin', 'technician'], Component: lazy(() => import('./pages/ClusterPage')) },
  { path: '/discovery', nav: { zh: '设备发现', en: 'Discovery' }, roles: ['technician', 'admin'], Component: lazy(() => import('./pages/DiscoveryPage')) },
  { path: '/gb28181', nav: { zh: '国标接入', en: 'GB/T 28181' }, roles: ['technician', 'admin'], Component: lazy(() => import('./pages/GbPage')) },
  { path: '/desk110', nav: { zh: '110 联动', en: '110 desk' }, roles: ['police110', 'admin', 'operator'], Component: lazy(() => import('./pages/Desk110Page')) },
  { path: '/kpi', nav: { zh: '综合评价', en: 'Assessment' }, roles: ['admin', 'operator'], Component: lazy(() => import('./pages/KpiPage')) },
  { path: '/sharing', nav: { zh: '共享管理', en: 'Sharing' }, roles: ['police110', 'admin'], Component: lazy(() => import('./pages/SharingPage')) },
  { path: '/audit', nav: { zh: '审计', en: 'Audit' }, roles: ['admin', 'police110'], Component: lazy(() => import('./pages/AuditPage')) },
  // users, API keys, event types, 110 categories and departments: one entry (the admin's nav fits 1920 px)
  { path: '/admin', nav: { zh: '系统管理', en: 'Admin' }, roles: ['admin'], Component: lazy(() => import('./pages/AdminPage')) },
  { path: '/users', roles: ['admin'], Component: lazy(() => import('./pages/UsersPage')) },
  { path: '/account', roles: ALL, Component: lazy(() => import('./pages/AccountPage')) },
];

export function navPagesFor(role: Role): PageDef[] {
  return PAGES.filter((p) => p.nav && p.roles.includes(role));
}

/** Where a user lands after login: the first nav page their role may open. */
export function homeFor(role: Role): string {
  return navPagesFor(role)[0]?.path ?? '/cameras';
}
