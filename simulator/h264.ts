/** Annex-B H.264 parsing: just enough to cut an elementary stream into access units for RTP. */

export const NAL_SLICE = 1;
export const NAL_IDR = 5;
export const NAL_SEI = 6;
export const NAL_SPS = 7;
export const NAL_PPS = 8;
export const NAL_AUD = 9;

export function nalType(nal: Buffer): number {
  return nal[0] & 0x1f;
}

/** Split an Annex-B byte stream at 3- and 4-byte start codes. Returned NALs are views (no copy). */
export function splitAnnexB(buf: Buffer): Buffer[] {
  const nals: Buffer[] = [];
  let start = -1;
  let i = 0;
  const n = buf.length;
  while (i + 2 < n) {
    if (buf[i] === 0 && buf[i + 1] === 0 && buf[i + 2] === 1) {
      if (start >= 0) {
        let end = i;
        // A 4-byte start code's leading zero belongs to the start code, not to the previous NAL.
        while (end > start && buf[end - 1] === 0) end--;
        if (end > start) nals.push(buf.subarray(start, end));
      }
      i += 3;
      start = i;
    } else {
      i++;
    }
  }
  if (start >= 0 && start < n) nals.push(buf.subarray(start, n));
  return nals;
}

export interface AccessUnit {
  nals: Buffer[];
  key: boolean;
}

/** first_mb_in_slice == 0 ⇔ the ue(v) starts with a 1 bit: the slice begins a new picture. */
function firstSliceOfPicture(nal: Buffer): boolean {
  return nal.length > 1 && (nal[1] & 0x80) !== 0;
}

/**
 * Group NALs into access units (one per frame). AUDs and SEIs are dropped (RTP does not need them and
 * x264's SEI is a 600-byte settings banner); SPS/PPS are kept in front of every IDR so a client that
 * ignores the SDP still gets them in-band.
 */
export function accessUnits(nals: Buffer[]): { units: AccessUnit[]; sps?: Buffer; pps?: Buffer } {
  const units: AccessUnit[] = [];
  let sps: Buffer | undefined;
  let pps: Buffer | undefined;
  let pending: Buffer[] = [];
  let current: AccessUnit | undefined;
  for (const nal of nals) {
    const t = nalType(nal);
    if (t === NAL_AUD || t === NAL_SEI) continue;
    if (t === NAL_SPS) {
      sps ??= nal;
      current = undefined;
      pending.push(nal);
      continue;
    }
    if (t === NAL_PPS) {
      pps ??= nal;
      current = undefined;
      pending.push(nal);
      continue;
    }
    if (t === NAL_SLICE || t === NAL_IDR) {
      if (!current || firstSliceOfPicture(nal)) {
        current = { nals: pending, key: false };
        pending = [];
        units.push(current);
      }
      current.nals.push(nal);
      if (t === NAL_IDR) current.key = true;
      continue;
    }
    // Other NAL types (filler, end of sequence...) are not needed by a live RTP stream.
  }
  if (sps && pps) {
    for (const u of units) {
      if (!u.key) continue;
      const types = u.nals.map(nalType);
      if (!types.includes(NAL_SPS)) u.nals.unshift(sps, pps);
      else if (!types.includes(NAL_PPS)) u.nals.splice(types.indexOf(NAL_SPS) + 1, 0, pps);
    }
  }
  return { units, sps, pps };
}

/** profile_idc, constraint flags and level_idc as the 6 hex digits SDP's profile-level-id wants. */
export function profileLevelId(sps: Buffer): string {
  return sps.subarray(1, 4).toString('hex').toUpperCase();
}
