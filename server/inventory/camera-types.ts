/**
 * Camera as the API returns it, shared by the server and the console (one definition). No imports:
 * the console bundles it as it is.
 */
export type Sharing = 'shared' | 'restricted';

/** A camera as the API shows it: credentials never appear, only whether there are some. */
export interface Camera {
  id: string;
  nationalId: string | null;
  name: string;
  owner: string | null;
  sharing: Sharing;
  lat: number | null;
  lng: number | null;
  address: string | null;
  district: string | null;
  street: string | null;
  community: string | null;
  gridCode: string | null;
  tags: string[];
  rtspMain: string | null;
  rtspSub: string | null;
  onvifUrl: string | null;
  /** who pulls the streams: in-process native core (default) or ffmpeg (fallback for cameras native cannot handle) */
  mediaEngine: 'native' | 'ffmpeg';
  hasCredentials: boolean;
  status: string;
  statusReason: string | null;
  statusChangedAt: string | null;
  lastSeenAt: string | null;
  createdAt: string;
  updatedAt: string;
}
