import type { JsonValue } from "../policy-definition.js";

/**
 * The reference keeps policy rules as `serde_json::Value`, which remembers whether a number was
 * written as an integer or a float: `1.0` is re-serialized as `1.0` and is not a valid `u32` knob.
 * A JavaScript number cannot carry that, so the slots holding integral values written in float
 * form are remembered here, keyed by their containing object or array. Non-integral numbers need
 * no mark. Marks are lost when a value is copied by anything but `freezeJsonCopy` (for instance
 * through `JSON.stringify`), after which such numbers read as integers.
 */
const integralFloatSlots = new WeakMap<object, Set<string>>();

/** Records that `container[key]` holds an integral number written in float form. */
export function markIntegralFloat(container: object, key: string): void {
  const slots = integralFloatSlots.get(container);
  if (slots === undefined) integralFloatSlots.set(container, new Set([key]));
  else slots.add(key);
}

/** Forgets a mark, for a slot overwritten by a later duplicate key. */
export function clearIntegralFloat(container: object, key: string): void {
  integralFloatSlots.get(container)?.delete(key);
}

/** True when the number `value` stored at `container[key]` is a float in serde_json's sense. */
export function hasFloatForm(value: number, container: object | undefined, key: string): boolean {
  if (!Number.isInteger(value)) return true;
  return container !== undefined && integralFloatSlots.get(container)?.has(key) === true;
}

/** A deep, frozen copy of `value` that keeps its float marks. */
export function freezeJsonCopy(value: JsonValue): JsonValue {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) {
    const copy = value.map((item) => freezeJsonCopy(item));
    value.forEach((item, index) => {
      if (typeof item === "number" && hasFloatForm(item, value, String(index))) {
        markIntegralFloat(copy, String(index));
      }
    });
    Object.freeze(copy);
    return copy;
  }
  const copy: { [key: string]: JsonValue } = {};
  for (const [key, item] of Object.entries(value)) {
    defineJsonProperty(copy, key, freezeJsonCopy(item));
    if (typeof item === "number" && hasFloatForm(item, value, key)) markIntegralFloat(copy, key);
  }
  return Object.freeze(copy);
}

/**
 * Sets an own, enumerable property the way `JSON.parse` does, so a `"__proto__"` key is data and
 * never rewires the prototype.
 */
export function defineJsonProperty(target: { [key: string]: JsonValue }, key: string, value: JsonValue): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}
