// Draws media/icon.png (128x128, the Marketplace icon): a cairn of four stones on a dark tile. Written as a
// PNG by hand (zlib + CRC) so the repository needs no image tool. Usage: node extension/scripts/icon.mjs
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { deflateSync } from 'node:zlib';

const size = 128;
const stones = [
  [64, 104, 46, 15],
  [64, 74, 34, 13],
  [64, 47, 24, 11],
  [64, 24, 14, 9],
];
const px = Buffer.alloc(size * (size * 4 + 1));
for (let y = 0; y < size; y++) {
  px[y * (size * 4 + 1)] = 0;
  for (let x = 0; x < size; x++) {
    const corner = Math.max(0, Math.hypot(Math.max(0, Math.abs(x - 63.5) - 44), Math.max(0, Math.abs(y - 63.5) - 44)) - 20);
    let rgba = corner > 0 ? [0, 0, 0, 0] : [43, 47, 54, 255];
    for (const [cx, cy, rx, ry] of stones) {
      const d = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2;
      if (d <= 1) rgba = [196 + Math.round(30 * (1 - d)), 206 + Math.round(25 * (1 - d)), 214, 255];
    }
    rgba.forEach((v, i) => (px[y * (size * 4 + 1) + 1 + x * 4 + i] = v));
  }
}
const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc = (buf) => {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
const chunk = (type, data) => {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type), data]);
  const sum = Buffer.alloc(4);
  sum.writeUInt32BE(crc(body));
  return Buffer.concat([len, body, sum]);
};
const ihdr = Buffer.alloc(13);
ihdr.writeUInt32BE(size, 0);
ihdr.writeUInt32BE(size, 4);
ihdr[8] = 8;
ihdr[9] = 6;
const png = Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(px)), chunk('IEND', Buffer.alloc(0))]);
writeFileSync(resolve(import.meta.dirname, '../../media/icon.png'), png);
