/**
 * Reading `<P2P>` XML into typed messages, driven by the schemas. Lenient: any element order,
 * whitespace, unknown elements kept aside (unless strict).
 */

import { BcUdpError } from "./errors.ts";
import {
  at,
  checkString,
  fieldError,
  type FieldObject,
  I64_MAX,
  I64_MIN,
  parseBigInt,
  parseInt32ish,
  specNamed,
  U64_MAX,
  type Value,
} from "./field_values.ts";
import {
  type FieldSpec,
  type Message,
  type ScalarType,
  SCHEMAS,
  type UnknownElement,
  variantNamed,
} from "./schema.ts";
import { parseXml, writeXml, type XmlElement } from "./xml.ts";

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
