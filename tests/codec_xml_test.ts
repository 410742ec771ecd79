/**
 * The hand-written XML reader: the lenient forms real peers send, and a differential test
 * against fast-xml-parser on random documents of the `<P2P>` subset.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { BcUdpError, message, parseMessage, parseXml, type XmlElement } from "../lib/bcudp/mod.ts";

Deno.test("debug is read as 0, 1, true, false or 251658240", () => {
  const c2rc = (debug: string) =>
    parseMessage(
      `<P2P><C2R_C><uid>U</uid><cli><ip>1.2.3.4</ip><port>1</port></cli><relay><ip>5.6.7.8</ip>` +
        `<port>2</port></relay><cid>-5</cid><debug>${debug}</debug><family>4</family><p>MAC</p>` +
        `</C2R_C></P2P>`,
    );
  for (
    const [text, value] of [["0", 0], ["1", 1], ["true", true], ["false", false], [
      "251658240",
      251658240,
    ]]
  ) {
    const parsed = c2rc(text as string);
    assert.equal(parsed.variant === "C2R_C" && parsed.fields.debug, value);
  }
  assert.throws(
    () => c2rc("yes"),
    (e: unknown) =>
      e instanceof BcUdpError && e.reason === "invalid_number" && e.details.field === "C2R_C.debug",
  );
});

Deno.test("ac may be negative where captures show it; u32 ac may not", () => {
  const r2ccr = parseMessage(
    "<P2P><R2C_C_R><nat>NULL</nat><rsp>0</rsp><ac>-1804289383</ac></R2C_C_R></P2P>",
  );
  assert.deepEqual(r2ccr, message("R2C_C_R", { nat: "NULL", rsp: 0, ac: -1804289383 }));
  assert.throws(
    () => parseMessage("<P2P><R2D_R_R><rsp>-4</rsp><ac>-1</ac></R2D_R_R></P2P>"),
    (e: unknown) =>
      e instanceof BcUdpError && e.reason === "out_of_range" && e.details.field === "R2D_R_R.ac",
  );
});

Deno.test("camera-style whitespace, a declaration, a BOM, comments and CDATA are accepted", () => {
  const xml = '\ufeff<?xml version="1.0" encoding="UTF-8" ?>\r\n<P2P>\n<!-- hello -->\n<D2R_HB>\n' +
    "<uid>\n  9527000ABCDEFGHI0123\n</uid>\n<dev>\n<ip>192.168.1.9</ip>\n<port>5000</port>\n</dev>\n" +
    "<needrsp>1</needrsp>\n<token><![CDATA[18446744073709551615]]></token>\n</D2R_HB>\n</P2P>\n";
  assert.deepEqual(
    parseMessage(xml),
    message("D2R_HB", {
      uid: "9527000ABCDEFGHI0123",
      dev: { ip: "192.168.1.9", port: 5000 },
      needrsp: 1,
      token: 18446744073709551615n,
    }),
  );
});

Deno.test("unknown elements are kept for display, including nested ones and repeats", () => {
  const parsed = parseMessage(
    "<P2P><R2D_HB_R><rsp>0</rsp><time_t>1700000000</time_t><timer><hb>20000</hb><x>1</x></timer>" +
      "<rsp>1</rsp><diag a='1'><n>2</n></diag></R2D_HB_R></P2P>",
  );
  assert.deepEqual(parsed.fields, { rsp: 0, time_t: 1700000000n, timer: { hb: 20000 } });
  assert.deepEqual(parsed.unknown, [
    { name: "timer.x", xml: "<x>1</x>" },
    { name: "rsp", xml: "<rsp>1</rsp>" },
    { name: "diag", xml: "<diag><n>2</n></diag>" },
  ]);
  assert.throws(
    () =>
      parseMessage("<P2P><R2D_DC_R><sid>1</sid><rsp>0</rsp><x/></R2D_DC_R></P2P>", {
        strict: true,
      }),
    (e: unknown) =>
      e instanceof BcUdpError && e.reason === "unknown_field_value" &&
      e.details.field === "R2D_DC_R.x",
  );
});

Deno.test("D2R_DISC diagnostic blobs are ignored", () => {
  const parsed = parseMessage(
    "<P2P>\n<D2R_DISC>\n<sid>77</sid>\n<time>1 2 3</time>\n<send>4</send>\n<recv>5</recv>\n<did>9</did>\n</D2R_DISC>\n</P2P>\n",
  );
  assert.deepEqual(parsed.fields, { sid: 77 });
  assert.deepEqual(parsed.unknown?.map((u) => u.name), ["time", "send", "recv", "did"]);
});

Deno.test("entities and character references are decoded; bad ones are errors with a position", () => {
  assert.equal(parseXml("<a>&lt;&gt;&amp;&quot;&apos;&#65;&#x42;&#x1F600;</a>").text, "<>&\"'AB😀");
  for (
    const bad of [
      "<a>&nope;</a>",
      "<a>&#x;</a>",
      "<a>&#12a;</a>",
      "<a>&#1114112;</a>",
      "<a>& b</a>",
    ]
  ) {
    assert.throws(
      () => parseXml(bad),
      (e: unknown) =>
        e instanceof BcUdpError && e.reason === "malformed_xml" && e.details.position === 3,
    );
  }
});

Deno.test("malformed documents give malformed_xml with the character position", () => {
  const cases: [string, number][] = [
    ["", 0],
    ["   ", 3],
    ["<P2P>", 5],
    ["<P2P></P2Q>", 5],
    ["<P2P><a></P2P>", 8],
    ["<P2P/><x/>", 6],
    ["text", 0],
    ["<P2P><!DOCTYPE x></P2P>", 5],
    ["<P2P><!-- x </P2P>", 5],
    ["<P2P><a <b/></a></P2P>", 8],
    ["<>", 1],
    ["<7/>", 1],
    ["<P2P><-a/></P2P>", 6],
    ["<P2P><.a></.a></P2P>", 6],
  ];
  for (const [xml, position] of cases) {
    assert.throws(
      () => parseXml(xml),
      (e: unknown) =>
        e instanceof BcUdpError && e.reason === "malformed_xml" && e.details.position === position,
      JSON.stringify(xml),
    );
  }
});

// ---- Differential test against fast-xml-parser ----------------------------------------

interface Tree {
  name: string;
  text: string;
  children: Tree[];
}

const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,6}$/);
/** Text of the subset: printable ASCII without markup, entities, a few non-ASCII letters. */
const textPiece = fc.oneof(
  fc.stringMatching(/^[ -%'-;=?-~]{1,6}$/),
  fc.constantFrom("&lt;", "&gt;", "&amp;", "&quot;", "&apos;", "é", "漢", "😀", ">"),
);
const text = fc.array(textPiece, { maxLength: 5 }).map((parts) => parts.join("").trim());

const tree: fc.Arbitrary<Tree> = fc.letrec<{ node: Tree }>((tie) => ({
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.record({ name, text, children: fc.constant<Tree[]>([]) }),
    fc.record({
      name,
      text: fc.constant(""),
      children: fc.array(tie("node"), { minLength: 1, maxLength: 4 }),
    }),
  ),
})).node;

const space = fc.constantFrom("", "", " ", "\n", "\r\n", "\t", "\n  ");

/** Writes a tree with random (insignificant) whitespace, comments and empty-element forms. */
function render(node: Tree, spaces: () => string, coin: () => boolean): string {
  const attribute = coin() && coin() ? ` id="1>2" x='y'` : "";
  if (node.children.length === 0) {
    if (node.text === "" && coin()) return `<${node.name}${attribute}/>`;
    return `<${node.name}${attribute}>${node.text}</${node.name}>`;
  }
  let inner = "";
  for (const child of node.children) {
    inner += spaces() + (coin() && coin() ? "<!-- c -->" + spaces() : "") +
      render(child, spaces, coin);
  }
  return `<${node.name}${attribute}>${inner}${spaces()}</${node.name}>`;
}

const document = fc.tuple(
  tree,
  fc.infiniteStream(space),
  fc.infiniteStream(fc.boolean()),
  fc.boolean(),
)
  .map(([root, spaces, coins, declaration]) => {
    const body = render(root, () => spaces.next().value, () => coins.next().value);
    return (declaration ? '<?xml version="1.0"?>\n' : "") + body;
  });

const reference = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: true,
  ignoreDeclaration: true,
  parseTagValue: false,
  trimValues: true,
});

type Ordered = Record<string, unknown>[];

function fromReference(nodes: Ordered): Tree[] {
  const out: Tree[] = [];
  for (const node of nodes) {
    const key = Object.keys(node).find((k) => k !== ":@");
    if (key === undefined || key === "#text") continue;
    const items = node[key] as Ordered;
    const texts = items.filter((i) => "#text" in i).map((i) => String(i["#text"]));
    out.push({ name: key, text: texts.join(""), children: fromReference(items) });
  }
  return out;
}

function fromOurs(element: XmlElement): Tree {
  return { name: element.name, text: element.text, children: element.children.map(fromOurs) };
}

Deno.test("differential: parseXml agrees with fast-xml-parser on random documents", () => {
  fc.assert(
    fc.property(document, (xml) => {
      const ours = fromOurs(parseXml(xml));
      const theirs = fromReference(reference.parse(xml) as Ordered);
      assert.deepEqual([ours], theirs);
    }),
    { numRuns: 3000 },
  );
});

/** Documents of the generator with a slice replaced by XML-ish noise: mostly malformed. */
const mangled = fc
  .tuple(
    document,
    fc.nat(),
    fc.nat(),
    fc.constantFrom(
      "<",
      ">",
      "</",
      "/>",
      "&",
      "&amp;",
      "<!--",
      "-->",
      "<![CDATA[",
      "<?",
      "=",
      "'",
      '"',
      " a=",
      "<b>",
      "</b>",
      "<b/>",
      "&#60;",
    ),
  )
  .map(([xml, at, length, noise]) => {
    const start = at % (xml.length + 1);
    return xml.slice(0, start) + noise + xml.slice(start + (length % 4));
  });

Deno.test("differential: whatever parseXml accepts, fast-xml-parser's validator accepts", () => {
  let accepted = 0;
  fc.assert(
    fc.property(mangled, (xml) => {
      try {
        parseXml(xml);
      } catch (error) {
        if (error instanceof BcUdpError && error.reason === "malformed_xml") return;
        throw error;
      }
      accepted++;
      assert.equal(XMLValidator.validate(xml), true, xml);
    }),
    { numRuns: 5000 },
  );
  assert.ok(accepted > 500, `only ${accepted} mangled documents were still well-formed`);
});
