/** `tsops.rotate_after` and `rotate --older-than`: how old a data key may get. */

/** `90d`, `12w`, `36h`: a rotation age in days (fractions allowed for hours). Throws on anything else. */
export function parseDays(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(d|days?|w|weeks?|h|hours?)\s*$/i.exec(text);
  if (!m) throw new Error(`'${text.slice(0, 40)}' is not an age like 90d, 12w or 36h`);
  const n = Number(m[1]);
  const unit = m[2]!.toLowerCase()[0];
  return unit === 'w' ? n * 7 : unit === 'h' ? n / 24 : n;
}
