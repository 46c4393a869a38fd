import type { Comment, Entry, MapNode, Node, ParsedFile, ScalarValue } from '../../tree.js';
import { isStrictEncComment } from '../../enc-string.js';
import { type CommentOrigin, type ContainerOrigin, type EntryOrigin, type JsonOrigin, type JsonSource, type MemberSpan, type ScalarOrigin } from './read.js';
import { goJsonString, renderJson, scalarJson } from './write.js';

/**
 * Layout-keeping JSON output: the source text as read, with changed scalars
 * rewritten in place and the `sops` member replaced, removed or appended.
 * Anything else (members added, removed, renamed or reordered) returns
 * undefined and the caller writes the canonical layout instead.
 */

/** What a JSON parse keeps for writing the file back in its own layout. */
export interface JsonLayout {
  source: JsonSource;
  /** The `sops` member as read (absent when the file had none or several). */
  sops?: { metadata: MapNode; member: MemberSpan; removeStart: number; removeEnd: number; valueStart: number };
  /** Indentation of the top-level members; undefined when they are not on lines of their own. */
  memberIndent?: string;
  newline: string;
  /** Where a new last member goes: the end of the last member's value. */
  lastValueEnd?: number;
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

export function buildLayout(source: JsonSource): JsonLayout {
  const { members, text } = source;
  const first = members[0];
  const lead = first ? text.slice(source.open + 1, first.keyStart) : '';
  const lineBreak = lead.lastIndexOf('\n');
  const layout: JsonLayout = {
    source,
    newline: lead.includes('\r\n') ? '\r\n' : '\n',
    ...(lineBreak >= 0 ? { memberIndent: lead.slice(lineBreak + 1) } : {}),
  };
  const sopsIndexes = members.flatMap((m, i) => (m.entry.key === 'sops' ? [i] : []));
  const nonSops = members.filter((m) => m.entry.key !== 'sops');
  const last = nonSops[nonSops.length - 1];
  if (last) layout.lastValueEnd = last.valueEnd;
  if (sopsIndexes.length === 1) {
    const i = sopsIndexes[0]!;
    const member = members[i]!;
    if (member.entry.value.kind === 'map') {
      const before = members[i - 1];
      const after = members[i + 1];
      // Removing the member must leave valid JSON: take the comma before it, or
      // the one after it when it comes first, or everything when it is alone.
      const [removeStart, removeEnd] = before
        ? [before.valueEnd, member.valueEnd]
        : after
          ? [member.keyStart, after.keyStart]
          : [source.open + 1, source.close];
      const valueStart = (member.entry.value.origin as ContainerOrigin).start;
      layout.sops = { metadata: member.entry.value, member, removeStart, removeEnd, valueStart };
    }
  }
  return layout;
}

/** The file in its own layout, or undefined when the tree no longer fits that layout. */
export function emitWithLayout(file: ParsedFile, layout: JsonLayout): string | undefined {
  const { source } = layout;
  if (file.documents.length !== 1 || file.documents[0] !== source.root) return undefined;
  const edits: Edit[] = [];
  const sopsOrdinals = layout.sops ? { from: layout.sops.member.firstOrdinal, to: layout.sops.member.endOrdinal } : undefined;
  if (!collectEdits(source.root, source, { from: 0, to: source.ordinals }, sopsOrdinals, edits)) return undefined;

  const step = layout.memberIndent ?? '\t';
  const renderMetadata = (metadata: MapNode): string => renderJson(metadata, step, step, layout.newline);
  const sops = layout.sops;
  if (sops) {
    if (!file.metadata) {
      edits.push({ start: sops.removeStart, end: sops.removeEnd, text: '' });
    } else {
      const metadataEdits: Edit[] = [];
      const ordinals = { from: (sops.metadata.origin as JsonOrigin).ordinal, to: sops.member.endOrdinal };
      if (file.metadata === sops.metadata && collectEdits(sops.metadata, source, ordinals, undefined, metadataEdits)) edits.push(...metadataEdits);
      else edits.push({ start: sops.valueStart, end: sops.member.valueEnd, text: renderMetadata(file.metadata) });
    }
  } else if (file.metadata) {
    const member = `"sops": ${renderMetadata(file.metadata)}`;
    if (layout.lastValueEnd === undefined) {
      // The object held nothing (or only members we could not place): write it afresh.
      if (source.members.length > 0) return undefined;
      edits.push({ start: source.open + 1, end: source.close, text: `${layout.newline}${step}${member}${layout.newline}` });
    } else {
      edits.push({ start: layout.lastValueEnd, end: layout.lastValueEnd, text: `,${layout.newline}${step}${member}` });
    }
  }
  return applyEdits(source.text, edits);
}

function applyEdits(text: string, edits: Edit[]): string {
  edits.sort((a, b) => a.start - b.start);
  const parts: string[] = [];
  let at = 0;
  for (const edit of edits) {
    parts.push(text.slice(at, edit.start), edit.text);
    at = edit.end;
  }
  parts.push(text.slice(at));
  return parts.join('');
}

interface OrdinalRange {
  from: number;
  to: number;
}

/**
 * Walks the tree in document order. Returns false unless it meets exactly the
 * ordinals of `range` (minus `skip`) in increasing order, every container with
 * its item count and every entry with its key as read: then the shape is the
 * one read, and an edit is pushed for every scalar or list comment that changed.
 */
function collectEdits(root: Node, source: JsonSource, range: OrdinalRange, skip: OrdinalRange | undefined, edits: Edit[]): boolean {
  let last = range.from - 1;
  let seen = 0;
  const visit = (x: Node | Entry | Comment): JsonOrigin | undefined => {
    const origin = x.origin as JsonOrigin | undefined;
    if (!origin || origin.source !== source) return undefined;
    const n = origin.ordinal;
    if (n <= last || n >= range.to || (skip && n >= skip.from && n < skip.to)) return undefined;
    last = n;
    seen++;
    return origin;
  };
  const pending: (Node | Entry | Comment)[] = [root];
  while (pending.length > 0) {
    const x = pending.pop()!;
    const origin = visit(x);
    if (!origin) return false;
    if (x.kind === 'entry') {
      if ((origin as EntryOrigin).key !== x.key) return false;
      pending.push(x.value);
    } else if (x.kind === 'comment') {
      if (!commentEdit(x, origin as CommentOrigin, edits)) return false;
    } else if (x.kind === 'scalar') {
      const o = origin as ScalarOrigin;
      if (o.type !== x.type || !sameValue(o.value, x.value)) edits.push({ start: o.start, end: o.end, text: scalarJson(x) });
    } else {
      if ((origin as ContainerOrigin).count !== x.items.length) return false;
      for (let i = x.items.length - 1; i >= 0; i--) pending.push(x.items[i]!);
    }
  }
  const expected = range.to - range.from - (skip ? skip.to - skip.from : 0);
  return seen === expected;
}

function commentEdit(comment: Comment, origin: CommentOrigin, edits: Edit[]): boolean {
  // A decrypted list comment has no place in JSON; only the canonical writer can drop it cleanly.
  if (!isStrictEncComment(comment.text)) return false;
  if (comment.text !== origin.text) edits.push({ start: origin.start, end: origin.end, text: goJsonString(comment.text) });
  return true;
}

function sameValue(a: ScalarValue, b: ScalarValue): boolean {
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    return a instanceof Uint8Array && b instanceof Uint8Array && Buffer.from(a).equals(Buffer.from(b));
  }
  return Object.is(a, b);
}
