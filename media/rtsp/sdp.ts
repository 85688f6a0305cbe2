/** Just the SDP (RFC 8866) a video pull needs: the video media sections, their codec, clock, parameter sets and control URL. */

export interface SdpVideo {
  /** 'h264' | 'h265' | anything else (lower case encoding name) */
  codec: string;
  payloadType: number;
  clockRate: number;
  /** a=control resolved against the base URL (absolute) */
  control: string;
  fmtp: Record<string, string>;
  /** parameter sets announced out of band (sprop-parameter-sets, sprop-vps/sps/pps) */
  vps: Buffer[];
  sps: Buffer[];
  pps: Buffer[];
  framerate?: number;
}

export interface Sdp {
  sessionControl?: string;
  videos: SdpVideo[];
}

const MAX_SDP = 64 * 1024;

/** Resolve an a=control value: absolute (rtsp://…), "*" (the base itself), or relative to the base. */
export function resolveControl(base: string, control: string | undefined): string {
  if (!control || control === '*') return base;
  if (/^rtsps?:\/\//i.test(control)) return control;
  const b = base.endsWith('/') ? base : `${base}/`;
  try {
    return new URL(control, b).toString();
  } catch {
    return b + control;
  }
}

function b64list(v: string | undefined): Buffer[] {
  if (!v) return [];
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => Buffer.from(s, 'base64'))
    .filter((b) => b.length > 0);
}

export function parseSdp(text: string, baseUrl: string): Sdp {
  if (text.length > MAX_SDP) throw new Error('SDP too large');
  const lines = text.split(/\r?\n/);
  let sessionControl: string | undefined;
  const media: Array<{ kind: string; pts: number[]; attrs: string[] }> = [];
  for (const raw of lines) {
    const line = raw.trim();
    if (line.length < 2 || line[1] !== '=') continue;
    const k = line[0];
    const v = line.slice(2);
    if (k === 'm') {
      const [kind, , , ...pts] = v.split(/\s+/);
      media.push({ kind: kind.toLowerCase(), pts: pts.map(Number).filter((n) => Number.isInteger(n)), attrs: [] });
    } else if (k === 'a') {
      if (media.length) media[media.length - 1].attrs.push(v);
      else if (v.startsWith('control:')) sessionControl = v.slice(8).trim();
    }
  }
  // a session-level control URL is the base for the media's relative ones (when it is not "*")
  const base = sessionControl && sessionControl !== '*' ? resolveControl(baseUrl, sessionControl) : baseUrl;
  const videos: SdpVideo[] = [];
  for (const m of media) {
    if (m.kind !== 'video' || m.pts.length === 0) continue;
    const pt = m.pts[0];
    let codec = '';
    let clockRate = 90000;
    let control: string | undefined;
    let framerate: number | undefined;
    const fmtp: Record<string, string> = {};
    for (const a of m.attrs) {
      const colon = a.indexOf(':');
      const name = (colon < 0 ? a : a.slice(0, colon)).toLowerCase();
      const val = colon < 0 ? '' : a.slice(colon + 1).trim();
      if (name === 'rtpmap') {
        const mm = /^(\d+)\s+([^/\s]+)\/(\d+)/.exec(val);
        if (mm && Number(mm[1]) === pt) {
          codec = mm[2].toLowerCase();
          clockRate = Number(mm[3]) || 90000;
        }
      } else if (name === 'fmtp') {
        const sp = val.indexOf(' ');
        if (sp > 0 && Number(val.slice(0, sp)) === pt) {
          for (const kv of val.slice(sp + 1).split(';')) {
            const eq = kv.indexOf('=');
            if (eq > 0) fmtp[kv.slice(0, eq).trim().toLowerCase()] = kv.slice(eq + 1).trim();
          }
        }
      } else if (name === 'control') control = val;
      else if (name === 'framerate') framerate = Number(val) || undefined;
    }
    // static payload types have no rtpmap; H.264/H.265 are always dynamic, so an unmapped one stays unknown
    if (codec === 'hevc') codec = 'h265';
    const sprop = b64list(fmtp['sprop-parameter-sets']);
    videos.push({
      codec,
      payloadType: pt,
      clockRate,
      control: resolveControl(base, control),
      fmtp,
      vps: b64list(fmtp['sprop-vps']),
      sps: codec === 'h264' ? sprop.filter((n) => (n[0] & 0x1f) === 7) : b64list(fmtp['sprop-sps']),
      pps: codec === 'h264' ? sprop.filter((n) => (n[0] & 0x1f) === 8) : b64list(fmtp['sprop-pps']),
      framerate,
    });
  }
  return { sessionControl, videos };
}
