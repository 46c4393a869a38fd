/**
 * `path_regex` is written for Go's RE2. JavaScript has no inline flag groups,
 * so a leading `(?i)`, `(?s)`, `(?m)` (or a combination such as `(?is)`) is
 * turned into the matching RegExp flag; everything else is compiled as is.
 */
export function compilePathRegex(source: string): RegExp {
  const inline = /^\(\?([ims]+)\)/.exec(source);
  const flags = new Set(inline ? [...inline[1]!] : []);
  const body = inline ? source.slice(inline[0].length) : source;
  return new RegExp(body, `u${[...flags].join('')}`);
}
