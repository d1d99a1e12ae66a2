#!/usr/bin/env node
// tsc compiles the library's TypeScript only; the engine's SQL (migrations and one file per
// function, read at run time next to the code that applies them) is copied beside it.
import { cpSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const from = join(root, 'libs', 'tasker', 'src');
const to = join(root, 'dist', 'libs', 'tasker', 'src');
let copied = 0;
(function walk(dir) {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) walk(path);
    else if (entry.endsWith('.sql')) {
      cpSync(path, join(to, relative(from, path)));
      copied++;
    }
  }
})(from);
if (copied === 0) {
  console.error('copy-sql: no .sql file found under libs/tasker/src');
  process.exit(1);
}
