/**
 * The protobuf default value of a message type. ts-proto generates no `fromPartial` for our
 * options, and decoding zero bytes yields exactly the defaults.
 */
export function defaultsOf<T>(decode: (bytes: Buffer) => T): T {
  return decode(Buffer.alloc(0));
}

/** Completes a partial message over its defaults; `undefined` fields keep the default. */
export function withDefaults<T extends object>(defaults: T, partial: Partial<T>): T {
  const defined = Object.fromEntries(Object.entries(partial).filter(([, value]) => value !== undefined));
  return { ...defaults, ...defined } as T;
}
