#!/usr/bin/env node
// The `cairn` command: a client of the daemon (and the daemon itself with `cairn daemon`). Built by `npm run build`.
import { existsSync } from 'node:fs';
const cli = new URL('../dist/cli.mjs', import.meta.url);
if (!existsSync(cli)) {
  console.error('cairn: not built yet; run `npm run build` first');
  process.exit(1);
}
await import(cli.href);
