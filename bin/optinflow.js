#!/usr/bin/env node
'use strict';
// Runs the compiled CLI when `npm run build` produced it, else the TypeScript source through tsx.
const fs = require('node:fs');
const path = require('node:path');

const compiled = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
let cli;
if (fs.existsSync(compiled)) {
  cli = require(compiled);
} else {
  require('tsx/cjs');
  cli = require(path.join(__dirname, '..', 'cli', 'main.ts'));
}
cli.runCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
