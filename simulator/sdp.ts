import { profileLevelId } from './h264.js';
import { RTP_PAYLOAD_TYPE, type VideoCodec } from './rtp-packetizer.js';

export interface SdpInput {
  sessionName: string;
  host: string;
  codec: VideoCodec;
  /** H.265 only */
  vps?: Buffer;
  sps: Buffer;
  pps: Buffer;
  fps: number;
  width: number;
  height: number;
  sessionId: string;
}

/** Session description for one H.264 (RFC 6184) or H.265 (RFC 7798) track; the track's control URL is relative ("trackID=0"). */
export function buildSdp(s: SdpInput): string {
  const lines = [
    'v=0',
    `o=- ${s.sessionId} 1 IN IP4 ${s.host}`,
    `s=${s.sessionName.replace(/[\r\n]/g, ' ')}`,
    `c=IN IP4 0.0.0.0`,
    't=0 0',
    'a=tool:StreetEye simulator',
    'a=type:broadcast',
    'a=control:*',
    'a=range:npt=now-',
    `m=video 0 RTP/AVP ${RTP_PAYLOAD_TYPE}`,
    ...(s.codec === 'h265'
      ? [`a=rtpmap:${RTP_PAYLOAD_TYPE} H265/90000`,
        `a=fmtp:${RTP_PAYLOAD_TYPE} sprop-vps=${s.vps!.toString('base64')};sprop-sps=${s.sps.toString('base64')};sprop-pps=${s.pps.toString('base64')}`]
      : [`a=rtpmap:${RTP_PAYLOAD_TYPE} H264/90000`,
        `a=fmtp:${RTP_PAYLOAD_TYPE} packetization-mode=1;profile-level-id=${profileLevelId(s.sps)};sprop-parameter-sets=${s.sps.toString('base64')},${s.pps.toString('base64')}`]),
    `a=framerate:${s.fps}`,
    `a=x-dimensions:${s.width},${s.height}`,
    'a=recvonly',
    'a=control:trackID=0',
  ];
  return lines.join('\r\n') + '\r\n';
}
