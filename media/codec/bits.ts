/** Bit reader over an RBSP (emulation-prevention bytes removed first), with Exp-Golomb codes (H.264/H.265 §7/§9). */

/** Remove emulation-prevention bytes (00 00 03 → 00 00) so that the bits read are the syntax elements. */
export function unescapeRbsp(nal: Buffer): Buffer {
  let zeros = 0;
  let needs = false;
  for (let i = 0; i < nal.length; i++) {
    if (zeros >= 2 && nal[i] === 3) {
      needs = true;
      break;
    }
    zeros = nal[i] === 0 ? zeros + 1 : 0;
  }
  if (!needs) return nal;
  const out = Buffer.allocUnsafe(nal.length);
  let o = 0;
  zeros = 0;
  for (let i = 0; i < nal.length; i++) {
    const b = nal[i];
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    out[o++] = b;
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return out.subarray(0, o);
}

export class BitReader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}

  get bitsLeft(): number {
    return this.buf.length * 8 - this.pos;
  }

  u(n: number): number {
    if (n > this.bitsLeft) throw new RangeError('bitstream ended early');
    let v = 0;
    for (let i = 0; i < n; i++) {
      const byte = this.buf[this.pos >> 3];
      v = v * 2 + ((byte >> (7 - (this.pos & 7))) & 1);
      this.pos++;
    }
    return v;
  }

  skip(n: number): void {
    if (n > this.bitsLeft) throw new RangeError('bitstream ended early');
    this.pos += n;
  }

  flag(): boolean {
    return this.u(1) === 1;
  }

  /** ue(v) */
  ue(): number {
    let zeros = 0;
    while (this.u(1) === 0) {
      if (++zeros > 31) throw new RangeError('bad Exp-Golomb code');
    }
    return zeros === 0 ? 0 : 2 ** zeros - 1 + this.u(zeros);
  }

  /** se(v) */
  se(): number {
    const k = this.ue();
    return k % 2 === 1 ? (k + 1) / 2 : -(k / 2);
  }
}
