/** Catalog items (GB/T 28181-2016 A.2.4.4 / 2022 A.2.6.4) read from a MANSCDP DeviceList, and what an ID's type code says. */
import { child, textOf, type XmlElement } from './manscdp.js';

export type ItemKind = 'camera' | 'device' | 'platform' | 'group' | 'org' | 'civil' | 'alarm' | 'other';

export type CatalogEvent = 'ON' | 'OFF' | 'VLOST' | 'DEFECT' | 'ADD' | 'DEL' | 'UPDATE';
export const CATALOG_EVENTS: CatalogEvent[] = ['ON', 'OFF', 'VLOST', 'DEFECT', 'ADD', 'DEL', 'UPDATE'];

export interface CatalogItem {
  id: string;
  kind: ItemKind;
  name: string | null;
  manufacturer: string | null;
  model: string | null;
  owner: string | null;
  civilCode: string | null;
  address: string | null;
  parentId: string | null;
  parental: boolean;
  status: string | null;
  lng: number | null;
  lat: number | null;
  /** 1 dome, 2 half-dome, 3 fixed box, 4 remote-controlled fixed (A.2.4.4 PTZType) */
  ptzType: number | null;
  event?: CatalogEvent;
}

/**
 * The 20-digit code: 8 digits of civil code, 2 of industry, 3 of type, 7 serial. Types 111–130 are front devices
 * (131 camera, 132 network camera), 118 NVR, 200 the platform itself, 215 business group, 216 virtual organisation.
 * Codes of 2–8 digits are administrative regions (civil codes).
 */
export function kindOfId(id: string): ItemKind {
  if (/^\d{2,8}$/.test(id)) return 'civil';
  if (!/^\d{20}$/.test(id)) return 'other';
  const t = Number(id.slice(10, 13));
  if (t === 131 || t === 132) return 'camera';
  if (t === 134 || t === 135) return 'alarm';
  if (t >= 111 && t <= 130) return 'device';
  if (t === 200) return 'platform';
  if (t === 215) return 'group';
  if (t === 216) return 'org';
  return 'other';
}

const str = (el: XmlElement, name: string, max = 200): string | null => {
  const v = textOf(el, name)?.trim();
  return v ? v.slice(0, max) : null;
};

function coord(v: string | null, limit: number): number | null {
  if (v === null) return null;
  const n = Number(v);
  // many devices send 0 or 0.0 for "unknown"
  return Number.isFinite(n) && n !== 0 && Math.abs(n) <= limit ? n : null;
}

/** One <Item>; undefined when it has no usable DeviceID. */
export function readItem(el: XmlElement): CatalogItem | undefined {
  const id = str(el, 'DeviceID', 64);
  if (!id || !/^\d{2,20}$/.test(id)) return undefined;
  const info = child(el, 'Info');
  const ptz = info ? Number(textOf(info, 'PTZType')) : NaN;
  const eventRaw = str(el, 'Event', 16)?.toUpperCase();
  const parent = str(el, 'ParentID', 64);
  const civil = str(el, 'CivilCode', 20);
  const item: CatalogItem = {
    id,
    kind: kindOfId(id),
    name: str(el, 'Name'),
    manufacturer: str(el, 'Manufacturer'),
    model: str(el, 'Model'),
    owner: str(el, 'Owner'),
    civilCode: civil && /^\d{2,8}$/.test(civil) ? civil : null,
    address: str(el, 'Address'),
    // ParentID may list several parents separated by '/' (2016 §A.2.4.4): the last is the direct one
    parentId: parent ? (parent.split('/').filter(Boolean).pop() ?? null) : null,
    parental: str(el, 'Parental') === '1',
    status: str(el, 'Status', 16)?.toUpperCase() ?? null,
    lng: coord(str(el, 'Longitude', 32), 180),
    lat: coord(str(el, 'Latitude', 32), 90),
    ptzType: Number.isInteger(ptz) && ptz >= 0 && ptz <= 9 ? ptz : null,
  };
  if (eventRaw && (CATALOG_EVENTS as string[]).includes(eventRaw)) item.event = eventRaw as CatalogEvent;
  return item;
}

export function readDeviceList(root: XmlElement): { sumNum: number | null; items: CatalogItem[]; invalid: number } {
  const sum = Number(textOf(root, 'SumNum'));
  const list = child(root, 'DeviceList');
  const items: CatalogItem[] = [];
  let invalid = 0;
  for (const c of list?.children ?? []) {
    const it = readItem(c);
    if (it) items.push(it);
    else invalid++;
  }
  return { sumNum: Number.isInteger(sum) && sum >= 0 ? sum : null, items, invalid };
}
