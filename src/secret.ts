const REDACTED = '[redacted]';

/**
 * A value that does not leak by accident. Logging it (`console.log`,
 * `util.inspect`), serialising it (`JSON.stringify`) or interpolating it
 * (`String(s)`, `` `${s}` ``, `'' + s`) all give `[redacted]`; only
 * {@link Secret.reveal} hands out the value. The value sits in a private
 * field, so it is not an own property either: `Object.keys`, spreading and
 * `structuredClone` do not carry it.
 *
 * This guards against mistakes, not against code that wants the value: it
 * cannot erase a JavaScript string from memory.
 */
export class Secret<T = string> {
  readonly #value: T;

  constructor(value: T) {
    this.#value = value;
    Object.freeze(this);
  }

  /** The value itself. Every other way of reading a Secret gives `[redacted]`. */
  reveal(): T {
    return this.#value;
  }

  /** `[redacted]`. */
  toString(): string {
    return REDACTED;
  }

  /** `[redacted]`, so `JSON.stringify({ pw })` writes `{"pw":"[redacted]"}`. */
  toJSON(): string {
    return REDACTED;
  }

  /** Template literals and `+` ask for a primitive: they get `[redacted]` too. */
  [Symbol.toPrimitive](): string {
    return REDACTED;
  }

  /** What `util.inspect` and therefore `console.log` print. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return REDACTED;
  }
}
