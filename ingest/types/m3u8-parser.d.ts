// Minimal typing for m3u8-parser (used by the ingest tests to check playlists with a real HLS parser).
declare module 'm3u8-parser' {
  export class Parser {
    constructor(opts?: unknown);
    push(chunk: string): void;
    end(): void;
    on(event: 'warn' | 'info', cb: (e: { message: string }) => void): void;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    manifest: any;
  }
}
