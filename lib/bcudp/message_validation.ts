/**
 * What makes a typed message valid for writing: each scalar of the right type and range, no keys
 * the schema lacks, a `{ variant, fields }` shape. The writer applies these as it walks the
 * schema (`writeValidMessage`, `validateMessage`), so validated encoding walks it once.
 */

import { BcUdpError } from "./errors.ts";
import {
  at,
  checkIntRange,
  checkString,
  fieldError,
  type FieldObject,
  I64_MAX,
  I64_MIN,
  specNamed,
  U64_MAX,
} from "./field_values.ts";
import type { FieldSpec, ScalarType } from "./schema.ts";
import { isXmlSpace } from "./xml.ts";

function wrongType(path: string, expected: string, value: unknown): BcUdpError {
  return fieldError("invalid_number", path, `expected ${expected}, got ${typeof value}`);
}

/** Throws naming the field unless `value` has the JS type and range `type` asks for. */
export function validateScalar(
  spec: FieldSpec,
  type: ScalarType,
  value: unknown,
  parent: string,
): void {
  const name = spec.name;
  switch (type) {
    case "str":
      if (typeof value !== "string") throw wrongType(at(parent, name), "a string", value);
      checkString(value, spec, parent);
      if (
        value.length > 0 &&
        (isXmlSpace(value.charCodeAt(0)) || isXmlSpace(value.charCodeAt(value.length - 1)))
      ) {
        throw fieldError(
          "out_of_range",
          at(parent, name),
          "leading or trailing whitespace would be lost (readers trim it)",
          value,
        );
      }
      return;
    case "u64":
    case "i64": {
      if (typeof value !== "bigint") throw wrongType(at(parent, name), "a bigint", value);
      const min = type === "u64" ? 0n : I64_MIN;
      const max = type === "u64" ? U64_MAX : I64_MAX;
      if (value < min || value > max) {
        throw fieldError(
          "out_of_range",
          at(parent, name),
          `${value} is outside ${min}..${max}`,
          `${value}`,
        );
      }
      return;
    }
    case "empty":
      if (value !== true) throw wrongType(at(parent, name), "true (an empty marker)", value);
      return;
    case "debug":
      if (typeof value === "boolean") return;
      validateInt(value, "u32", parent, name);
      return;
    default:
      validateInt(value, type, parent, name);
  }
}

function validateInt(value: unknown, type: string, parent: string, name: string): void {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw fieldError(
      "invalid_number",
      at(parent, name),
      `expected an integer, got ${String(value)}`,
    );
  }
  checkIntRange(value, type, parent, name);
}

/** Throws naming the first key of `fields` the schema lacks, unless all `written` are known. */
export function checkNoUnknownKeys(
  fields: FieldObject,
  specs: readonly FieldSpec[],
  path: string,
  written: number,
): void {
  let defined = 0;
  for (const key in fields) if (fields[key] !== undefined) defined++;
  if (defined === written) return;
  for (const key in fields) {
    if (fields[key] !== undefined && specNamed(specs, key) === undefined) {
      throw fieldError("unknown_field_value", `${path}.${key}`, "no such element in the schema");
    }
  }
}

/** Throws BcUdpError unless `data` is an object with a string `variant`. */
export function checkMessageShape(data: unknown): void {
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new BcUdpError("missing_field", "expected an object with variant and fields", {
      field: "variant",
    });
  }
  const variant = (data as { variant?: unknown }).variant;
  if (typeof variant !== "string") {
    throw new BcUdpError("missing_field", "field variant: expected the variant name", {
      field: "variant",
    });
  }
}
