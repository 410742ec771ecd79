/**
 * Schema-driven conversion between `<P2P>` XML and typed messages: parsing is lenient
 * (any element order, whitespace, unknown elements kept aside), writing is strict and
 * byte-exact (schema order, no whitespace, no declaration).
 */

import { BcUdpError } from "./errors.ts";
import {
  type FieldSpec,
  isVariantName,
  type Message,
  type MessageOf,
  type ScalarType,
  SCHEMAS,
  type UnknownElement,
  type VariantName,
  variantNamed,
} from "./schema.ts";
import { escapeText, isXmlSpace, parseXml, writeXml, type XmlElement } from "./xml.ts";

/** A field value in its typed form (a nested struct is a plain object). */
type Value = string | number | bigint | boolean | FieldObject;
type FieldObject = { [name: string]: Value | undefined };

const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

const INT_RANGES: Record<string, [number, number]> = {
  u8: [0, 0xff],
  u16: [0, 0xffff],
  u32: [0, 0xffffffff],
  i32: [-0x80000000, 0x7fffffff],
  ac: [-0x80000000, 0xffffffff],
};

const textEncoder = new TextEncoder();

function fieldError(
  reason: "out_of_range" | "invalid_number" | "unknown_field_value" | "missing_field",
  path: string,
  message: string,
  value?: string,
): BcUdpError {
  return new BcUdpError(reason, `field ${path}: ${message}`, { field: path, value });
}

const DIGITS = /^-?[0-9]{1,25}$/;

/** The path of field `name` under `parent`, for messages (built only when throwing). */
function at(parent: string, name: string): string {
  return `${parent}.${name}`;
}

function parseBigInt(
  text: string,
  parent: string,
  name: string,
  min: bigint,
  max: bigint,
): bigint {
  const short = shortInteger(text);
  if (short === undefined && !DIGITS.test(text)) {
    throw fieldError("invalid_number", at(parent, name), `"${text}" is not an integer`);
  }
  // BigInt of a small number is cheaper than BigInt of its text (a token is usually short).
  const value = short === undefined ? BigInt(text) : BigInt(short);
  if (value < min || value > max) {
    throw fieldError("out_of_range", at(parent, name), `${text} is outside ${min}..${max}`, text);
  }
  return value;
}

/** Reads up to 10 decimal digits with an optional minus sign; undefined for anything else. */
function shortInteger(text: string): number | undefined {
  const negative = text.charCodeAt(0) === 0x2d;
  const first = negative ? 1 : 0;
  if (text.length === first || text.length - first > 10) return undefined;
  let value = 0;
  for (let i = first; i < text.length; i++) {
    const digit = text.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return undefined;
    value = value * 10 + digit;
  }
  return negative ? 0 - value : value; // 0 - 0 is 0, not -0
}

function parseInt32ish(text: string, type: string, parent: string, name: string): number {
  let value = shortInteger(text);
  if (value === undefined) {
    if (!DIGITS.test(text)) {
      throw fieldError("invalid_number", at(parent, name), `"${text}" is not an integer`);
    }
    value = Number(text) + 0; // "+ 0" turns "-0" into 0
  }
  checkIntRange(value, type, parent, name, text);
  return value;
}

/**
 * Throws `out_of_range` unless `value` is within the range of the integer `type`; the error
 * quotes `text` (what was read), or the value itself.
 */
function checkIntRange(
  value: number,
  type: string,
  parent: string,
  name: string,
  text?: string,
): void {
  const range = INT_RANGES[type];
  const min = range[0];
  const max = range[1];
  if (value < min || value > max) {
    const shown = text ?? `${value}`;
    throw fieldError(
      "out_of_range",
      at(parent, name),
      `${shown} is outside ${min}..${max} (${type})`,
      shown,
    );
  }
}

function parseScalar(
  element: XmlElement,
  spec: FieldSpec,
  type: ScalarType,
  parent: string,
): Value {
  const name = spec.name;
  const text = element.text;
  if (element.children.length > 0 && type !== "empty") {
    throw new BcUdpError(
      "malformed_xml",
      `field ${at(parent, name)}: expected text, found element <${element.children[0].name}>`,
      { field: at(parent, name) },
    );
  }
  switch (type) {
    case "str":
      checkString(text, spec, parent);
      return text;
    case "u64":
      return parseBigInt(text, parent, name, 0n, U64_MAX);
    case "i64":
      return parseBigInt(text, parent, name, I64_MIN, I64_MAX);
    case "debug":
      if (text === "true") return true;
      if (text === "false") return false;
      return parseInt32ish(text, "u32", parent, name);
    case "empty":
      return true;
    default:
      return parseInt32ish(text, type, parent, name);
  }
}

function checkString(text: string, spec: FieldSpec, parent: string): void {
  const name = spec.name;
  if (spec.values && !spec.values.includes(text)) {
    throw fieldError(
      "unknown_field_value",
      at(parent, name),
      `"${text}" is not one of ${spec.values.join(", ")}`,
      text,
    );
  }
  if (spec.maxBytes !== undefined && text.length > spec.maxBytes / 3) {
    const bytes = textEncoder.encode(text).length;
    if (bytes > spec.maxBytes) {
      throw fieldError(
        "out_of_range",
        at(parent, name),
        `${bytes} bytes is longer than ${spec.maxBytes}`,
      );
    }
  }
}

/** The spec called `name` (a loop: this runs for every element of every packet). */
function specNamed(specs: readonly FieldSpec[], name: string): FieldSpec | undefined {
  for (let i = 0; i < specs.length; i++) if (specs[i].name === name) return specs[i];
  return undefined;
}

/**
 * Reads the children of `parent` against `specs`. Unknown (or repeated) elements go to
 * `unknown` named by their path below the variant (e.g. `timer.extra`), or throw when
 * `unknown` is undefined (strict reading).
 */
function parseFields(
  parent: XmlElement,
  specs: readonly FieldSpec[],
  path: string,
  unknown: UnknownElement[] | undefined,
): FieldObject {
  const fields: FieldObject = {};
  const children = parent.children;
  for (let i = 0; i < children.length; i++) {
    const child = children[i];
    const spec = specNamed(specs, child.name);
    if (spec === undefined || fields[spec.name] !== undefined) {
      const childPath = path + "." + child.name;
      if (unknown === undefined) {
        throw fieldError(
          "unknown_field_value",
          childPath,
          spec === undefined ? "no such element in the schema" : "element appears twice",
        );
      }
      unknown.push({ name: childPath.slice(childPath.indexOf(".") + 1), xml: writeXml(child) });
      continue;
    }
    fields[spec.name] = typeof spec.type === "string"
      ? parseScalar(child, spec, spec.type, path)
      : parseFields(child, spec.type, path + "." + spec.name, unknown);
  }
  for (let i = 0; i < specs.length; i++) {
    const spec = specs[i];
    if (!spec.optional && fields[spec.name] === undefined) {
      throw fieldError("missing_field", path + "." + spec.name, "required element is missing");
    }
  }
  return fields;
}

/**
 * Turns a parsed `<P2P>` element into a typed message. Unknown child elements are ignored
 * for the fields but kept in `unknown` for display.
 */
export function messageFromElement(root: XmlElement, options: ParseOptions = {}): Message {
  if (root.name !== "P2P") {
    throw new BcUdpError("unknown_variant", `root element is <${root.name}>, expected <P2P>`, {
      variant: root.name,
    });
  }
  if (root.children.length !== 1) {
    throw new BcUdpError(
      "malformed_xml",
      `<P2P> must hold exactly one element, found ${root.children.length}`,
      { position: 0 },
    );
  }
  const body = root.children[0];
  const variant = variantNamed(body.name);
  if (variant === undefined) {
    throw new BcUdpError("unknown_variant", `unknown variant <${body.name}>`, {
      variant: body.name,
    });
  }
  const unknown: UnknownElement[] | undefined = options.strict ? undefined : [];
  const fields = parseFields(body, SCHEMAS[variant], variant, unknown);
  const message = { variant, fields } as Message;
  if (unknown !== undefined && unknown.length > 0) message.unknown = unknown;
  return message;
}

/** Options for parsing a message. */
export interface ParseOptions {
  /**
   * Reject unknown or repeated elements (naming them) instead of keeping them aside in
   * `unknown`: for XML a user wants encoded, where a dropped element would be a surprise.
   */
  strict?: boolean;
}

/** Parses `<P2P>` XML text into a typed message (lenient reading, see module docs). */
export function parseMessage(xml: string, options: ParseOptions = {}): Message {
  return messageFromElement(parseXml(xml), options);
}

function writeScalar(type: ScalarType, value: Value, parent: string, name: string): string {
  if (typeof value === "string") return escapeText(value);
  if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean") {
    return String(value);
  }
  throw fieldError("invalid_number", at(parent, name), `cannot write a ${typeof value} as ${type}`);
}

function isFieldObject(value: unknown): value is FieldObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The start and end tag of every element of a spec list, made once per list (speed). */
interface Tags {
  open: string[];
  /** `</name>`, or `<name/>` for an empty marker (which has no start tag). */
  close: string[];
}

const TAGS = new WeakMap<readonly FieldSpec[], Tags>();

function tagsOf(specs: readonly FieldSpec[]): Tags {
  let tags = TAGS.get(specs);
  if (tags === undefined) {
    tags = {
      open: specs.map((s) => `<${s.name}>`),
      close: specs.map((s) => s.type === "empty" ? `<${s.name}/>` : `</${s.name}>`),
    };
    TAGS.set(specs, tags);
  }
  return tags;
}

/**
 * Writes `fields` in schema order. With `check`, it validates as it writes (required
 * elements present, types and ranges right, no keys the schema lacks), so validated encoding
 * walks the schema once.
 */
function writeFields(
  fields: FieldObject,
  specs: readonly FieldSpec[],
  path: string,
  check: boolean,
): string {
  const { open, close } = tagsOf(specs);
  let out = "";
  let written = 0;
  for (let i = 0; i < specs.length; i++) {
    const spec = specs[i];
    const value = fields[spec.name];
    if (value === undefined) {
      if (check && !spec.optional) {
        throw fieldError("missing_field", path + "." + spec.name, "required element is missing");
      }
      continue;
    }
    written++;
    if (typeof spec.type === "string") {
      if (check) validateScalar(spec, spec.type, value, path);
      out += spec.type === "empty"
        ? close[i]
        : open[i] + writeScalar(spec.type, value, path, spec.name) + close[i];
    } else if (isFieldObject(value)) {
      out += open[i] + writeFields(value, spec.type, path + "." + spec.name, check) + close[i];
    } else {
      throw fieldError("missing_field", path + "." + spec.name, "expected an object of fields");
    }
  }
  if (check) checkNoUnknownKeys(fields, specs, path, written);
  return out;
}

/** Throws naming the first key of `fields` the schema lacks, unless all `written` are known. */
function checkNoUnknownKeys(
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

function writeChecked(message: { variant: string; fields: unknown }, check: boolean): string {
  checkMessageShape(message);
  if (!isVariantName(message.variant)) {
    throw new BcUdpError("unknown_variant", `unknown variant ${message.variant}`, {
      variant: message.variant,
    });
  }
  const variant = message.variant;
  if (!isFieldObject(message.fields)) {
    throw fieldError("missing_field", variant, "expected an object of fields");
  }
  const body = writeFields(message.fields, SCHEMAS[variant], variant, check);
  return `<P2P><${variant}>${body}</${variant}></P2P>`;
}

/**
 * Writes a message as compact `<P2P>` XML in schema order: no declaration, no whitespace,
 * byte-for-byte the shape the cloud sends. Unknown elements are not written. No checks:
 * see `writeValidMessage`.
 */
export function writeMessage(message: Message): string {
  return writeChecked(message, false);
}

/** `validateMessage` and `writeMessage` in one walk of the schema (what encoding uses). */
export function writeValidMessage(message: { variant: string; fields: unknown }): string {
  return writeChecked(message, true);
}

function wrongType(path: string, expected: string, value: unknown): BcUdpError {
  return fieldError("invalid_number", path, `expected ${expected}, got ${typeof value}`);
}

function validateScalar(spec: FieldSpec, type: ScalarType, value: unknown, parent: string): void {
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

/**
 * Checks a message against its schema (variant known, required fields present, types and
 * ranges right, no unknown keys); throws BcUdpError naming the field otherwise.
 */
export function validateMessage(message: { variant: string; fields: unknown }): Message {
  writeChecked(message, true);
  return message as Message;
}

/** Throws BcUdpError unless `data` is an object with a string `variant`. */
function checkMessageShape(data: unknown): void {
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

/** A JSON-safe field value: u64/i64 become strings of digits. */
export type JsonValue = string | number | boolean | { [name: string]: JsonValue };

function fieldsToJson(fields: FieldObject, specs: readonly FieldSpec[]): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const spec of specs) {
    const value = fields[spec.name];
    if (value === undefined) continue;
    if (typeof spec.type !== "string") {
      out[spec.name] = fieldsToJson(value as FieldObject, spec.type);
    } else out[spec.name] = typeof value === "bigint" ? value.toString() : value as JsonValue;
  }
  return out;
}

/** The fields of a message as JSON-safe data (u64 as strings of digits), in schema order. */
export function fieldsToJsonValue(message: Message): Record<string, JsonValue> {
  return fieldsToJson(message.fields as FieldObject, SCHEMAS[message.variant]);
}

function fieldsFromJson(data: unknown, specs: readonly FieldSpec[], path: string): FieldObject {
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw fieldError("missing_field", path, "expected an object of fields");
  }
  const record = data as Record<string, unknown>;
  const out: FieldObject = {};
  for (const [name, value] of Object.entries(record)) {
    const spec = specNamed(specs, name);
    const childPath = path + "." + name;
    if (spec === undefined) {
      throw fieldError("unknown_field_value", childPath, "no such element in the schema");
    }
    if (typeof spec.type !== "string") out[name] = fieldsFromJson(value, spec.type, childPath);
    else if ((spec.type === "u64" || spec.type === "i64") && typeof value !== "bigint") {
      const text = typeof value === "number" && Number.isSafeInteger(value) ? String(value) : value;
      if (typeof text !== "string") {
        throw fieldError("invalid_number", childPath, "expected a string of digits");
      }
      out[name] = parseBigInt(text, path, name, I64_MIN, U64_MAX);
    } else if (typeof value === "string" && spec.type in INT_RANGES) {
      out[name] = parseInt32ish(value, spec.type, path, name);
    } else {
      out[name] = value as Value;
    }
  }
  return out;
}

/**
 * Builds a message from JSON data shaped like `decode --json` output
 * (`{variant, fields}`, u64 as strings of digits) and validates it against the schema.
 */
export function messageFromJson(data: { variant: string; fields: unknown }): Message {
  checkMessageShape(data);
  if (!isVariantName(data.variant)) {
    throw new BcUdpError("unknown_variant", `unknown variant ${data.variant}`, {
      variant: data.variant,
    });
  }
  const fields = fieldsFromJson(data.fields ?? {}, SCHEMAS[data.variant], data.variant);
  return validateMessage({ variant: data.variant, fields });
}

/** Builds a message of variant `V` (a typed shorthand for `{ variant, fields }`). */
export function message<V extends VariantName>(
  variant: V,
  fields: MessageOf<V>["fields"],
): MessageOf<V> {
  return { variant, fields } as MessageOf<V>;
}
