/**
 * One declarative schema per BcUdp XML variant: element order, type and optionality.
 * The message parser, writer, validation and JSON reader all read these tables, so this file
 * is the single source of truth for every variant (docs/protocol.md lists them).
 */

import { MAX_UID_LENGTH } from "./constants.ts";

/** Scalar field types. */
export type ScalarType =
  | "str"
  | "u8"
  | "u16"
  | "u32"
  | "i32"
  | "u64"
  | "i64"
  /** `debug`: 0/1, true/false, or a u32 such as 251658240; kept as written. */
  | "debug"
  /** `ac`: a u32 in practice, but negative values appear in captures. */
  | "ac"
  /** An empty marker element such as `<timer/>`. */
  | "empty";

/** One element of a variant (or of a nested struct). */
export interface FieldSpec {
  readonly name: string;
  readonly type: ScalarType | readonly FieldSpec[];
  readonly optional?: true;
  /** For `str`: the largest accepted length in UTF-8 bytes. */
  readonly maxBytes?: number;
  /** For `str`: the only accepted values. */
  readonly values?: readonly string[];
}

const req = <const N extends string, const T extends ScalarType | readonly FieldSpec[]>(
  name: N,
  type: T,
) => ({ name, type }) as const;
const opt = <const N extends string, const T extends ScalarType | readonly FieldSpec[]>(
  name: N,
  type: T,
) => ({ name, type, optional: true }) as const;

/** `<ip>..</ip><port>..</port>` */
export const IP_PORT = [req("ip", "str"), req("port", "u16")] as const;
/** `<port>..</port>` alone (client-to-camera set-up). */
const PORT_ONLY = [req("port", "u16")] as const;

const uid = { name: "uid", type: "str", maxBytes: MAX_UID_LENGTH } as const;
const conn = { name: "conn", type: "str", values: ["local", "map", "relay"] } as const;
const cidDid = [req("cid", "i32"), req("did", "i32")] as const;

/** Every XML variant, keyed by its element name; field order is the order written. */
export const SCHEMAS = {
  // Client (app, neolink, `wake`) <-> middleman / register.
  C2M_Q: [uid, req("p", "str")],
  M2C_Q_R: [
    opt("reg", IP_PORT),
    opt("relay", IP_PORT),
    opt("log", IP_PORT),
    opt("t", IP_PORT),
    opt("timer", "empty"),
    opt("retry", "empty"),
    opt("mtu", "u32"),
    opt("debug", "debug"),
    opt("ac", "ac"),
    opt("rsp", "i32"),
  ],
  C2R_C: [
    uid,
    req("cli", IP_PORT),
    req("relay", IP_PORT),
    req("cid", "i32"),
    req("debug", "debug"),
    req("family", "u8"),
    req("p", "str"),
    opt("r", "i32"),
  ],
  R2C_C_R: [
    opt("dev", IP_PORT),
    opt("dmap", IP_PORT),
    opt("relay", IP_PORT),
    opt("relayt", IP_PORT),
    req("nat", "str"),
    opt("sid", "u32"),
    req("rsp", "i32"),
    req("ac", "ac"),
  ],
  R2C_T: [
    opt("dev", IP_PORT),
    opt("dmap", IP_PORT),
    req("sid", "u32"),
    req("cid", "i32"),
    opt(
      "rsp",
      "i32",
    ),
  ],
  C2R_CFM: [req("sid", "u32"), conn, req("rsp", "i32"), ...cidDid],
  C2R_HB: [req("sid", "u32"), ...cidDid],
  R2C_DISC: [req("sid", "u32")],

  // Camera <-> middleman / register.
  D2M_Q: [uid, opt("r", "i32")],
  M2D_Q_R: [
    req("reg", IP_PORT),
    req("log", IP_PORT),
    req("timer", "empty"),
    req("retry", "empty"),
    req("rsp", "i32"),
    req("token", "u64"),
    req("ac", "u32"),
  ],
  D2R_R: [uid, req("token", "u64"), opt("r", "i32")],
  R2D_R_R: [req("rsp", "i32"), req("ac", "u32")],
  D2R_HB: [uid, opt("dev", IP_PORT), opt("needrsp", "u8"), req("token", "u64")],
  R2D_HB_R: [req("rsp", "i32"), req("time_t", "u64"), req("timer", [req("hb", "u32")])],
  R2D_C: [
    req("cli", IP_PORT),
    req("cmap", IP_PORT),
    req("relay", IP_PORT),
    req("sid", "u32"),
    req("cid", "i32"),
    opt("debug", "debug"),
    opt("nat", "str"),
    opt("ac", "ac"),
  ],
  D2R_C_R: [req("sid", "u32"), opt("dev", IP_PORT), req("rsp", "i32")],
  D2R_DISC: [req("sid", "u32")],
  R2D_DC_R: [req("sid", "u32"), req("rsp", "i32")],

  // Client <-> camera (direct, local or relayed session set-up).
  C2D_S: [req("to", PORT_ONLY)],
  C2D_C: [
    uid,
    req("cli", PORT_ONLY),
    req("cid", "i32"),
    req("mtu", "u32"),
    req("debug", "debug"),
    req("p", "str"),
    opt("lver", "u32"),
  ],
  D2C_C_R: [
    req("timer", [req("def", "u32"), req("hb", "u32"), req("hbt", "u32")]),
    req("rsp", "i32"),
    ...cidDid,
    opt("pl", "str"),
    opt("nc", "i64"),
  ],
  C2D_T: [req("sid", "u32"), conn, req("cid", "i32"), req("mtu", "u32")],
  D2C_T: [req("sid", "u32"), conn, ...cidDid],
  C2D_A: [req("sid", "u32"), conn, ...cidDid, req("mtu", "u32")],
  D2C_CFM: [req("sid", "u32"), conn, req("rsp", "i32"), ...cidDid, opt("time_r", "u32")],
  C2D_HB: cidDid,
  D2C_HB: cidDid,
  C2D_DISC: cidDid,
  D2C_DISC: cidDid,
} as const satisfies Record<string, readonly FieldSpec[]>;

/** The name of an XML variant, e.g. `"D2R_HB"`. */
export type VariantName = keyof typeof SCHEMAS;

/** All variant names, in table order. */
export const VARIANT_NAMES = Object.keys(SCHEMAS) as VariantName[];

const VARIANT_BY_NAME = new Map<string, VariantName>(VARIANT_NAMES.map((name) => [name, name]));

/**
 * The known variant spelled `name`, as the table's own string (so that later comparisons
 * with variant names are comparisons of one string with itself), or undefined.
 */
export function variantNamed(name: string): VariantName | undefined {
  return VARIANT_BY_NAME.get(name);
}

/** True when `name` is a known variant. */
export function isVariantName(name: string): name is VariantName {
  return Object.hasOwn(SCHEMAS, name);
}

/** The TypeScript value of a scalar type. */
interface ScalarValues {
  str: string;
  u8: number;
  u16: number;
  u32: number;
  i32: number;
  u64: bigint;
  i64: bigint;
  debug: number | boolean;
  ac: number;
  empty: true;
}

type ValueOf<T> = T extends keyof ScalarValues ? ScalarValues[T]
  : T extends readonly FieldSpec[] ? FieldsOf<T>
  : never;

type Simplify<T> = { [K in keyof T]: T[K] } & unknown;

/** The typed fields object a schema describes (optional elements are optional keys). */
export type FieldsOf<S extends readonly FieldSpec[]> = Simplify<
  & { [F in S[number] as F extends { optional: true } ? never : F["name"]]: ValueOf<F["type"]> }
  & { [F in S[number] as F extends { optional: true } ? F["name"] : never]?: ValueOf<F["type"]> }
>;

/** `{ ip, port }`, the most common nested element. */
export type IpPort = FieldsOf<typeof IP_PORT>;

/** The typed fields of variant `V`. */
export type VariantFields<V extends VariantName> = FieldsOf<(typeof SCHEMAS)[V]>;

/** An unknown child element, kept (as compact XML) for display, never written back. */
export interface UnknownElement {
  name: string;
  xml: string;
}

/** A decoded or to-be-encoded XML message: one variant and its typed fields. */
export type Message = {
  [V in VariantName]: { variant: V; fields: VariantFields<V>; unknown?: UnknownElement[] };
}[VariantName];

/** The message of one specific variant. */
export type MessageOf<V extends VariantName> = Extract<Message, { variant: V }>;

/** Builds a message of variant `V` (a typed shorthand for `{ variant, fields }`). */
export function message<V extends VariantName>(
  variant: V,
  fields: MessageOf<V>["fields"],
): MessageOf<V> {
  return { variant, fields } as MessageOf<V>;
}
