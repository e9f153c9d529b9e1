// Validates an OpenAPI document with @seriousme/openapi-schema-validator (the OpenAPI
// Initiative's JSON Schemas for 3.0/3.1, checked with Ajv) — a validator independent of the
// Rust code that wrote the document — then checks what a schema cannot: every `$ref` resolves,
// every `{param}` of a path template is a path parameter of each of its operations, and
// operationIds are unique.
//
//   node check.mjs path/to/openapi.json
//
// `cargo xtask openapi --check` and `cargo xtask test` run it on the reference app's document.

import fs from "node:fs";
import { Validator } from "@seriousme/openapi-schema-validator";

const file = process.argv[2];
if (!file) {
  console.error("usage: node check.mjs openapi.json");
  process.exit(2);
}
const doc = JSON.parse(fs.readFileSync(file, "utf8"));
const validator = new Validator();
const res = await validator.validate(doc);
if (!res.valid) {
  console.error(`${file} is not a valid OpenAPI document:`);
  console.error(JSON.stringify(res.errors, null, 2));
  process.exit(1);
}
if (!validator.version.startsWith("3.1")) {
  console.error(`${file} is OpenAPI ${validator.version}, not 3.1`);
  process.exit(1);
}
// Resolving fails on a `$ref` to nothing.
try {
  validator.resolveRefs();
} catch (e) {
  console.error(`${file}: a $ref does not resolve: ${e.message ?? e}`);
  process.exit(1);
}
const problems = [];
const ids = new Set();
let operations = 0;
const methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
for (const [path, item] of Object.entries(doc.paths ?? {})) {
  const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
  for (const method of methods) {
    const op = item[method];
    if (!op) continue;
    operations++;
    if (ids.has(op.operationId)) problems.push(`operationId ${op.operationId} is used twice`);
    ids.add(op.operationId);
    const inPath = (op.parameters ?? []).filter((p) => p.in === "path").map((p) => p.name);
    for (const name of templated) {
      if (!inPath.includes(name)) problems.push(`${method.toUpperCase()} ${path}: no path parameter {${name}}`);
    }
    for (const name of inPath) {
      if (!templated.includes(name)) problems.push(`${method.toUpperCase()} ${path}: path parameter ${name} is not in the template`);
    }
    for (const req of op.security ?? []) {
      for (const scheme of Object.keys(req)) {
        if (!doc.components?.securitySchemes?.[scheme]) problems.push(`${method.toUpperCase()} ${path}: unknown security scheme ${scheme}`);
      }
    }
  }
}
if (problems.length) {
  console.error(`${file}:\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
const { version } = JSON.parse(fs.readFileSync(new URL("node_modules/@seriousme/openapi-schema-validator/package.json", import.meta.url), "utf8"));
const count = (o) => Object.keys(o ?? {}).length;
console.log(
  `valid OpenAPI ${validator.version}: ${count(doc.paths)} paths, ${operations} operations, ` +
    `${count(doc.components?.securitySchemes)} security schemes, ${count(doc.components?.schemas)} schemas ` +
    `(@seriousme/openapi-schema-validator ${version})`,
);
