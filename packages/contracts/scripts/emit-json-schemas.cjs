#!/usr/bin/env node
// Writes the contracts as standalone JSON Schema (2020-12) documents into `schemas/`, one file
// per event type (`schemas/events/<type>.v<version>.json`, envelope with `data` inlined) and per
// public HTTP body (`schemas/http/*.json`). Run after `tsc -b` (it reads the compiled package);
// the output is generated, never edited, and not committed (see .gitignore).
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { allJsonSchemas } = require('../dist/index.js');

const outDir = path.resolve(__dirname, '..', 'schemas');

// Start from an empty directory so a removed event type leaves no stale document behind.
fs.rmSync(outDir, { recursive: true, force: true });

const documents = allJsonSchemas();
for (const [relativePath, document] of Object.entries(documents)) {
  const file = path.join(outDir, relativePath);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(document, null, 2)}\n`);
}

process.stdout.write(
  `contracts: wrote ${Object.keys(documents).length} JSON Schemas to ${path.relative(process.cwd(), outDir) || '.'}\n`,
);
