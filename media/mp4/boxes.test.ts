import { describe, expect, it } from 'vitest';
import { body, children, find, findPath } from './boxes.js';

const box = (type: string, ...payload: Buffer[]): Buffer => {
  const content = Buffer.concat(payload);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + content.length);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, content]);
};

describe('ISO BMFF boxes', () => {
  it('walks 32-bit, 64-bit (size 1) and to-the-end (size 0) boxes', () => {
    const large = Buffer.alloc(16 + 3);
    large.writeUInt32BE(1);
    large.write('mdat', 4, 'latin1');
    large.writeBigUInt64BE(BigInt(large.length), 8);
    const tail = Buffer.concat([Buffer.from([0, 0, 0, 0]), Buffer.from('free', 'latin1'), Buffer.from('xyz')]);
    const buf = Buffer.concat([box('moof', box('traf', box('tfdt', Buffer.alloc(8)))), large, tail]);
    const top = [...children(buf, 0, buf.length)];
    expect(top.map((b) => [b.type, b.headerSize, b.size])).toEqual([['moof', 8, 32], ['mdat', 16, 19], ['free', 8, 11]]);
    expect(body(top[1])).toEqual([32 + 16, 32 + 19]);
    const moof = find(buf, 0, buf.length, 'moof')!;
    expect(findPath(buf, moof, ['traf', 'tfdt'])?.start).toBe(16);
    expect(findPath(buf, moof, ['traf', 'trun'])).toBeUndefined();
  });

  it('ends the walk at a box that does not fit its parent, keeping what came before', () => {
    const good = box('ftyp', Buffer.from('isom', 'latin1'));
    const bad = Buffer.alloc(8);
    bad.writeUInt32BE(4096);
    bad.write('moov', 4, 'latin1');
    const buf = Buffer.concat([good, bad, good]);
    expect([...children(buf, 0, buf.length)].map((b) => b.type)).toEqual(['ftyp']);
    const tooSmall = Buffer.from([0, 0, 0, 4, 0x6d, 0x6f, 0x6f, 0x76]);
    expect([...children(tooSmall, 0, tooSmall.length)]).toEqual([]);
  });
});
