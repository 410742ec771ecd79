/**
 * A small XML reader and writer for the `<P2P>` documents BcUdp carries: elements, text,
 * entities, an optional declaration, comments and whitespace between elements. It is
 * purpose-built for speed (a general parser is several times slower on these documents)
 * and is differential-tested against fast-xml-parser.
 */

import { MAX_XML_DEPTH } from "./constants.ts";
import { BcUdpError } from "./errors.ts";

/** One parsed element: its name, its text (entities decoded, trimmed) and its child elements. */
export interface XmlElement {
  name: string;
  text: string;
  children: XmlElement[];
}

const LT = 0x3c; // <
const GT = 0x3e; // >
const SLASH = 0x2f;
const QUESTION = 0x3f;
const BANG = 0x21;
const BOM = 0xfeff;
const EQUALS = 0x3d;

/** XML whitespace (space, tab, CR, LF): what the reader skips and trims. */
export function isXmlSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** XML names start with a letter, `_`, `:` or a non-ASCII character (not a digit, `-` or `.`). */
function isNameStartChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f || c === 0x3a ||
    c > 0x7f;
}

function isNameChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) ||
    c === 0x5f || c === 0x2d || c === 0x2e || c === 0x3a || c > 0x7f;
}

function malformed(message: string, position: number): BcUdpError {
  return new BcUdpError("malformed_xml", `malformed XML at character ${position}: ${message}`, {
    position,
  });
}

/** The children of every leaf element: shared (and frozen) to spare an array per leaf. */
const NO_CHILDREN: XmlElement[] = Object.freeze([]) as unknown as XmlElement[];

const ENTITIES: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

const HEX_REF = /^#x[0-9a-fA-F]{1,6}$/;
const DEC_REF = /^#[0-9]{1,7}$/;

function decodeEntities(raw: string, offset: number): string {
  if (raw.indexOf("&") < 0) return raw;
  let out = "";
  let i = 0;
  while (i < raw.length) {
    const amp = raw.indexOf("&", i);
    if (amp < 0) {
      out += raw.slice(i);
      break;
    }
    out += raw.slice(i, amp);
    const semi = raw.indexOf(";", amp);
    if (semi < 0 || semi - amp > 10) throw malformed("unterminated entity", offset + amp);
    const name = raw.slice(amp + 1, semi);
    if (name.startsWith("#")) {
      const code = HEX_REF.test(name)
        ? parseInt(name.slice(2), 16)
        : DEC_REF.test(name)
        ? parseInt(name.slice(1), 10)
        : NaN;
      if (!(code <= 0x10ffff)) {
        throw malformed(`bad character reference &${name};`, offset + amp);
      }
      out += String.fromCodePoint(code);
    } else {
      const value = ENTITIES[name];
      if (value === undefined) throw malformed(`unknown entity &${name};`, offset + amp);
      out += value;
    }
    i = semi + 1;
  }
  return out;
}

class Reader {
  pos = 0;
  constructor(readonly src: string) {}

  /** Moves past any XML whitespace. */
  skipSpace(): void {
    const src = this.src;
    while (this.pos < src.length && isXmlSpace(src.charCodeAt(this.pos))) this.pos++;
  }

  /** Skips a byte-order mark, whitespace, comments and declarations (`<?xml ...?>`). */
  skipMisc(): void {
    const src = this.src;
    if (this.pos === 0 && src.charCodeAt(0) === BOM) this.pos = 1;
    for (;;) {
      this.skipSpace();
      if (src.charCodeAt(this.pos) !== LT) return;
      const next = src.charCodeAt(this.pos + 1);
      if (next === QUESTION) this.pos = this.skipPast("<?", "?>", this.pos, "declaration");
      else if (next === BANG && src.startsWith("<!--", this.pos)) {
        this.pos = this.skipPast("<!--", "-->", this.pos, "comment");
      } else return;
    }
  }

  /**
   * The index just past the `terminator` closing the markup that starts at `start` with
   * `opener`; throws when there is none.
   */
  skipPast(opener: string, terminator: string, start: number, what: string): number {
    const end = this.src.indexOf(terminator, start + opener.length);
    if (end < 0) throw malformed(`unterminated ${what}`, start);
    return end + terminator.length;
  }

  readName(): string {
    const start = this.pos;
    if (!isNameStartChar(this.src.charCodeAt(start))) {
      throw malformed("expected an element name", start);
    }
    while (this.pos < this.src.length && isNameChar(this.src.charCodeAt(this.pos))) this.pos++;
    return this.src.slice(start, this.pos);
  }

  /**
   * Skips attributes (`name="value"` or `name='value'`, whitespace before each) up to `>` or
   * `/>`; returns true for a self-closing tag. Anything else in a start tag is malformed.
   */
  finishStartTag(): boolean {
    const src = this.src;
    for (;;) {
      const before = this.pos;
      this.skipSpace();
      const c = src.charCodeAt(this.pos);
      if (c === GT) {
        this.pos++;
        return false;
      }
      if (c === SLASH && src.charCodeAt(this.pos + 1) === GT) {
        this.pos += 2;
        return true;
      }
      if (this.pos >= src.length) throw malformed("unterminated start tag", this.pos);
      if (this.pos === before) throw malformed("expected whitespace, '>' or '/>'", this.pos);
      this.readName();
      this.skipSpace();
      if (src.charCodeAt(this.pos) !== EQUALS) {
        throw malformed("expected '=' after an attribute name", this.pos);
      }
      this.pos++;
      this.skipSpace();
      const quote = src.charCodeAt(this.pos);
      if (quote !== 0x22 && quote !== 0x27) {
        throw malformed("expected a quoted attribute value", this.pos);
      }
      const end = src.indexOf(String.fromCharCode(quote), this.pos + 1);
      if (end < 0) throw malformed("unterminated attribute value", this.pos);
      const lt = src.indexOf("<", this.pos + 1);
      if (lt >= 0 && lt < end) throw malformed("'<' in an attribute value", lt);
      this.pos = end + 1;
    }
  }

  /** Reads the element starting at `pos` (which must be `<`), with its children. */
  readElement(depth: number): XmlElement {
    if (depth > MAX_XML_DEPTH) throw malformed(`nesting deeper than ${MAX_XML_DEPTH}`, this.pos);
    const src = this.src;
    if (src.charCodeAt(this.pos) !== LT) throw malformed("expected '<'", this.pos);
    this.pos++;
    const name = this.readName();
    const element: XmlElement = { name, text: "", children: NO_CHILDREN };
    if (this.finishStartTag()) return element;
    let text = "";
    for (;;) {
      const lt = src.indexOf("<", this.pos);
      if (lt < 0) throw malformed(`element <${name}> is not closed`, src.length);
      if (lt > this.pos) text += decodeEntities(src.slice(this.pos, lt), this.pos);
      const next = src.charCodeAt(lt + 1);
      if (next === SLASH) {
        this.pos = lt + 2;
        const end = this.pos + name.length;
        if (src.startsWith(name, this.pos) && !isNameChar(src.charCodeAt(end))) this.pos = end;
        else {
          const closing = this.readName();
          throw malformed(`</${closing}> closes <${name}>`, lt);
        }
        this.skipSpace();
        if (src.charCodeAt(this.pos) !== GT) throw malformed("expected '>'", this.pos);
        this.pos++;
        element.text = trimSpace(text);
        return element;
      }
      if (next === QUESTION) {
        this.pos = this.skipPast("<?", "?>", lt, "processing instruction");
      } else if (next === BANG) {
        if (src.startsWith("<!--", lt)) this.pos = this.skipPast("<!--", "-->", lt, "comment");
        else if (src.startsWith("<![CDATA[", lt)) {
          this.pos = this.skipPast("<![CDATA[", "]]>", lt, "CDATA section");
          text += src.slice(lt + 9, this.pos - 3);
        } else throw malformed("unsupported markup '<!'", lt);
      } else {
        this.pos = lt;
        const child = this.readElement(depth + 1);
        if (element.children === NO_CHILDREN) element.children = [child];
        else element.children.push(child);
      }
    }
  }
}

/** Removes leading and trailing XML whitespace (space, tab, CR, LF) and nothing else. */
function trimSpace(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isXmlSpace(text.charCodeAt(start))) start++;
  while (end > start && isXmlSpace(text.charCodeAt(end - 1))) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

/**
 * Parses one XML document into its root element. Leniently accepts a declaration, comments,
 * attributes (ignored) and whitespace; anything else malformed throws BcUdpError
 * (`malformed_xml`) with the character position.
 */
export function parseXml(src: string): XmlElement {
  const reader = new Reader(src);
  reader.skipMisc();
  if (reader.pos >= src.length) throw malformed("empty document", reader.pos);
  const root = reader.readElement(1);
  reader.skipMisc();
  if (reader.pos < src.length) throw malformed("content after the root element", reader.pos);
  return root;
}

/** Escapes text for an element body (`&`, `<`, `>`). */
export function escapeText(text: string): string {
  if (!/[&<>]/.test(text)) return text;
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Writes an element tree back as compact XML (no whitespace; empty elements self-close). */
export function writeXml(element: XmlElement): string {
  if (element.children.length === 0) {
    return element.text === ""
      ? `<${element.name}/>`
      : `<${element.name}>${escapeText(element.text)}</${element.name}>`;
  }
  return `<${element.name}>${element.children.map(writeXml).join("")}</${element.name}>`;
}
