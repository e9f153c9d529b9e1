// Parses a Mermaid diagram with Mermaid's own parser (under jsdom, as Mermaid needs a DOM) and
// fails with Mermaid's error when it does not parse.
//
//   node check.mjs < diagram.mmd
//
// `cargo xtask test` runs it on the reference app's manifest diagram.

import fs from "node:fs";
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");
const { version } = JSON.parse(fs.readFileSync(new URL("node_modules/mermaid/package.json", import.meta.url), "utf8"));

const text = fs.readFileSync(0, "utf8");
if (!text.trim()) {
  console.error("check.mjs: no diagram on stdin");
  process.exit(2);
}
mermaid.initialize({ startOnLoad: false });
try {
  const { diagramType } = await mermaid.parse(text);
  const lines = text.trimEnd().split("\n").length;
  console.log(`mermaid ${version}: the ${diagramType} diagram (${lines} lines) parses`);
} catch (e) {
  console.error(`mermaid could not parse the diagram:\n${e.message ?? e}`);
  process.exit(1);
}
