#!/usr/bin/env node
// Lays out the npm package in dist/package: the built library, the consumers' README
// (libs/tasker/README.md, not this repository's) and a package.json with only what an installed
// package needs (no scripts, no development dependencies). Pack or publish that folder.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const out = join(root, 'dist', 'package');
const built = join(root, 'dist', 'libs', 'tasker');
if (!existsSync(join(built, 'src', 'index.js'))) {
  console.error('stage-package: build the library first (npm run build:lib)');
  process.exit(1);
}
const own = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const keep = ['name', 'version', 'description', 'keywords', 'license', 'repository', 'homepage', 'bugs', 'main', 'types', 'exports', 'engines', 'dependencies', 'peerDependencies', 'peerDependenciesMeta'];
const manifest = Object.fromEntries(keep.filter((k) => own[k] !== undefined).map((k) => [k, own[k]]));
manifest.files = ['dist'];

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
cpSync(built, join(out, 'dist', 'libs', 'tasker'), { recursive: true, filter: (src) => !/\.(spec\.(js|d\.ts)|map)$/.test(src) });
cpSync(join(root, 'libs', 'tasker', 'README.md'), join(out, 'README.md'));
writeFileSync(join(out, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
console.log(`stage-package: ${manifest.name}@${manifest.version} in ${out}`);
