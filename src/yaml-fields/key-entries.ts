import { isMap, type Node } from 'yaml';
import type { Field, YamlReader } from './reader.js';

/** Reads of the shapes key kinds take in config files, shared by the kinds' descriptors. */

export function optional<T>(field: Field | undefined, read: (f: Field) => T | undefined): T | undefined {
  return field ? read(field) : undefined;
}

export function withoutSpaces(text: string): string {
  return text.replace(/\s+/g, '');
}

/** Keys given as `a,b` or as a list of such strings (a flat creation-rule field). */
export function keyStrings(reader: YamlReader, field: Field | undefined): string[] {
  return optional(field, (f) => reader.keyList(f)) ?? [];
}

/** A key_groups field that must be a list (as in sops), whose items may be comma-separated. */
export function keyStringList(reader: YamlReader, field: Field): string[] {
  if (field.value !== null) reader.list(field);
  return reader.keyList(field);
}

/** A list whose items are each one non-empty string. */
export function stringItems(reader: YamlReader, field: Field | undefined): string[] {
  if (!field?.value) return [];
  return (reader.list(field) ?? []).map((item) => listString(reader, item));
}

/** A list whose items are mappings, each read by `read`. */
export function mappingItems<T>(reader: YamlReader, field: Field | undefined, read: (node: Node | null, where: string) => T): T[] {
  if (!field) return [];
  return (reader.list(field) ?? []).map(({ node, where }) => read(node, where));
}

/** A mapping item that must set `name`, a string; other fields in `allowed` are accepted, unknown ones warned about. */
export function requiredField(reader: YamlReader, node: Node | null, where: string, allowed: readonly string[], name: string): string {
  if (node === null || !isMap(node)) return reader.fail(node, `${where} must be a mapping with '${name}'`);
  const fields = reader.fields(node, where, allowed, 'warn');
  const value = optional(fields.get(name), (f) => reader.string(f));
  if (!value) reader.fail(node, `${where}.${name} is required`);
  return value;
}

function listString(reader: YamlReader, item: { node: Node | null; where: string }): string {
  const value = item.node === null ? undefined : reader.string({ name: '', keyNode: item.node, value: item.node, where: item.where });
  if (!value?.trim()) reader.fail(item.node, `${item.where} must be a non-empty string`);
  return value.trim();
}
