/**
 * Mixes several integers into one 32-bit seed (a splitmix-style finaliser per part), so that
 * (seed, epoch, index) triples give unrelated, reproducible random streams.
 */
export function mixSeed(...parts: number[]): number {
  let h = 0x2545f491;
  for (const part of parts) {
    // Split the part into 32-bit halves so that large integers (e.g. seeds from Date.now()) still mix.
    const lo = part >>> 0;
    const hi = Math.floor(part / 4294967296) >>> 0;
    for (const v of [lo, hi]) {
      h = (h ^ v) >>> 0;
      h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
      h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
      h = (h ^ (h >>> 16)) >>> 0;
      h = (h + 0x9e3779b9) >>> 0;
    }
  }
  return h;
}
