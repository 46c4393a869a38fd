import { CST } from 'yaml';
import type { Comment, Node, Scalar } from '../../tree.js';
import type { CommentOrigin, ScalarOrigin, YamlLayout } from './layout.js';
import type { ScalarContext } from './render.js';
import { resolvePlain, timestamp, UnrepresentableError } from './resolve.js';
import { parserProblem, scalarProblem, SourcePositions, yamlError } from './syntax.js';
import type { SourceTok, Tok } from './tokens.js';

const CORE_TAG = 'tag:yaml.org,2002:';

function tagName(tag: SourceTok): string {
  return tag.source.replace(/^!!/, CORE_TAG).replace(/^!<(.*)>$/, '$1');
}

/** A value read from the CST: the node, comments on its last line, and trailing comments that belong further out. */
export interface Read<T extends Node = Node> {
  node: T;
  inline: Comment[];
  spill: Comment[];
}

/**
 * Reading the leaves of a YAML tree from CST tokens: scalars (typed as go-yaml
 * types them), keys and comments, each with its origin in the source.
 */
export abstract class LeafReader {
  readonly layout: YamlLayout;
  readonly warnings = new Set<string>();
  protected readonly positions: SourcePositions;
  protected docIndex = 0;

  constructor(protected readonly source: string, protected readonly file?: string) {
    this.layout = { source, docs: [], step: 4, eol: source.includes('\r\n') ? '\r\n' : '\n' };
    this.positions = new SourcePositions(source);
  }

  fail(message: string, offset: number): never {
    throw yamlError(this.positions, message, offset, this.file);
  }

  /** A token that has no place here; parser error tokens can turn up in any token list. */
  protected unexpected(t: { type: string; offset: number }): never {
    if (t.type === 'error') this.fail(parserProblem((t as CST.ErrorToken).message), t.offset);
    this.fail(`unexpected ${t.type.replace(/-/g, ' ')}`, t.offset);
  }

  protected comment(t: SourceTok, inline = false): Comment {
    const text = t.source.slice(1);
    const origin: CommentOrigin = { layout: this.layout, doc: this.docIndex, ordinal: -1, start: t.offset, end: t.offset + t.source.length, text };
    return inline ? { kind: 'comment', text, inline: true, origin } : { kind: 'comment', text, origin };
  }

  protected emptyScalar(at: number, lead: string, ctx: ScalarContext, tag: SourceTok | undefined): Scalar {
    const { type, value } = tag ? this.tagged(tag, '', at) : { type: 'null' as const, value: null };
    const newline = this.source.indexOf('\n', at);
    const lineEnd = newline < 0 ? this.source.length : newline + 1;
    const origin: ScalarOrigin = { layout: this.layout, doc: this.docIndex, ordinal: -1, start: at, end: at, lineEnd, ctx, type, value, emptyLead: lead };
    return { kind: 'scalar', type, value, origin };
  }

  protected scalar(token: CST.FlowScalar | CST.BlockScalar, ctx: ScalarContext, tag: SourceTok | undefined): Read<Scalar> {
    let problem: { code: string; offset: number } | undefined;
    const resolved = CST.resolveAsScalar(token, true, (offset, code) => {
      problem ??= { code, offset };
    });
    if (problem) this.fail(scalarProblem(problem.code), problem.offset);
    let text = resolved.value;
    if (token.type === 'block-scalar' && text.endsWith('\n') && this.lastLineUnbroken(token)) {
      // go-yaml keeps only the line breaks it read: a last line with none (the
      // file ends right after it) adds none, whatever the chomping indicator.
      // The YAML 1.2 spec (and the yaml package) would add one for clip and keep.
      text = text.slice(0, -1);
    }
    let type: Scalar['type'] = 'str';
    let value: Scalar['value'] = text;
    if (tag) ({ type, value } = this.tagged(tag, text, token.offset));
    else if (token.type === 'scalar') ({ type, value } = this.plain(text, token.offset));
    const inline: Comment[] = [];
    let origin: ScalarOrigin;
    if (token.type === 'block-scalar') {
      const props = token.props as SourceTok[];
      const header = props.find((p) => p.type === 'block-scalar-header') ?? props[0]!;
      const newline = props.find((p) => p.type === 'newline');
      const bodyStart = newline ? newline.offset + newline.source.length : header.offset + header.source.length;
      for (const p of props) if (p.type === 'comment') inline.push(this.comment(p, true));
      const end = bodyStart + token.source.length;
      origin = { layout: this.layout, doc: this.docIndex, ordinal: -1, start: header.offset, end, lineEnd: bodyStart, block: { headerEnd: header.offset + header.source.length, bodyStart }, ctx, type, value };
    } else {
      if (token.type === 'scalar' && !ctx.inFlow) this.checkPlainValue(token);
      const end = token.offset + token.source.length;
      let lineEnd = end;
      for (const t of token.end ?? []) {
        if (t.type === 'comment') inline.push(this.comment(t, true));
        else if (t.type !== 'space' && t.type !== 'newline') this.fail('unexpected content after a value', t.offset);
        lineEnd = t.offset + t.source.length;
        if (t.type === 'newline') break;
      }
      origin = { layout: this.layout, doc: this.docIndex, ordinal: -1, start: token.offset, end, lineEnd, ctx, type, value };
    }
    if (tag && type === 'str' && !tagName(tag).startsWith(CORE_TAG)) origin.customTag = true;
    if (tag && tag.source.startsWith('!!')) {
      let end = tag.offset + tag.source.length;
      while (this.source[end] === ' ') end++;
      origin.tag = { start: tag.offset, end };
    }
    return { node: { kind: 'scalar', type, value, origin }, inline, spill: [] };
  }

  /** The block scalar runs to the end of the input and its last content line has no line break. */
  private lastLineUnbroken(token: CST.BlockScalar): boolean {
    const body = token.source;
    if (!body || !this.source.endsWith(body)) return false;
    const props = token.props as SourceTok[];
    const last = props[props.length - 1];
    if (last && last.offset + last.source.length + body.length !== this.source.length) return false;
    return !/\n[ \t]*$/.test(body) && /[^ \t\n]/.test(body);
  }

  protected plain(text: string, offset: number): { type: Scalar['type']; value: Scalar['value'] } {
    try {
      return resolvePlain(text);
    } catch (e) {
      if (e instanceof UnrepresentableError) this.fail(e.message, offset);
      throw e;
    }
  }

  /** `a: b: c` reads as a plain value at the CST layer; YAML forbids it. */
  protected checkPlainValue(token: CST.FlowScalar): void {
    const colon = /:(?:[ \t]|$)/m.exec(token.source);
    if (colon) this.fail('a mapping value is not allowed here (quote the value)', token.offset + colon.index);
  }

  protected tagged(tag: SourceTok, text: string, offset: number): { type: Scalar['type']; value: Scalar['value'] } {
    const name = tagName(tag);
    if (!name.startsWith(CORE_TAG)) {
      // The tag itself is not quoted: a plaintext value starting with ! may be a secret.
      this.warnings.add(`a custom YAML tag (line ${this.positions.line(tag.offset)}) is read as a string`);
      return { type: 'str', value: text };
    }
    const want = name.slice(CORE_TAG.length);
    switch (want) {
      case 'str':
        return { type: 'str', value: text };
      case 'binary':
        return { type: 'bytes', value: new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'base64')) };
      case 'timestamp': {
        const t = timestamp(text);
        if (!t) this.fail('the value does not match its !!timestamp tag', offset);
        return { type: 'time', value: t };
      }
      case 'int':
      case 'float':
      case 'bool':
      case 'null': {
        const r = this.plain(text, offset);
        if (r.type === want) return r;
        if (want === 'float' && r.type === 'int') return { type: 'float', value: Number(r.value) };
        return this.fail(`the value does not match its !!${want} tag`, offset);
      }
      default:
        return this.fail('unsupported tag (a value starting with ! needs quotes)', tag.offset);
    }
  }

  protected lineComments(end: SourceTok[] | undefined): Comment[] {
    const out: Comment[] = [];
    for (const t of end ?? []) {
      if (t.type === 'comment') out.push(this.comment(t, true));
      else if (t.type === 'newline') break;
      else if (t.type !== 'space') this.fail('unexpected content after a value', t.offset);
    }
    return out;
  }

  protected key(token: Tok, tag: SourceTok | undefined, implicit: boolean): string {
    if (token.type === 'alias') this.fail('non-string key (an alias as a key)', token.offset);
    if (!CST.isScalar(token)) this.fail('non-string key (a complex key)', token.offset);
    if (implicit && (token.type === 'block-scalar' || token.source.includes('\n'))) this.fail('a key must fit on one line', token.offset);
    if (token.type === 'scalar' && token.source.startsWith('\t')) this.fail('tabs are not allowed as indentation', token.offset);
    let problem: string | undefined;
    const r = CST.resolveAsScalar(token, true, (_offset, code) => (problem ??= code));
    if (problem) this.fail(scalarProblem(problem), token.offset);
    if (tag && tag.source !== '!!str' && tag.source !== '!<tag:yaml.org,2002:str>') this.fail('non-string key (a tagged key)', token.offset);
    if (!tag && token.type === 'scalar') {
      let type: Scalar['type'];
      try {
        type = resolvePlain(r.value).type;
      } catch {
        type = 'int';
      }
      if (type !== 'str') this.fail('non-string key (quote it)', token.offset);
    }
    return r.value;
  }
}
