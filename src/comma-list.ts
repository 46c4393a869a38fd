/** `a, b,,c` as sops reads lists in flags, variables and config: split on commas, trimmed, empty items dropped. */
export function splitCommaList(text: string | undefined): string[] {
  return (text ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
}
