// Writes `FILE.gz` (gzip -9) and `FILE.br` (brotli, quality 11) beside every file of a
// directory, for static hosts that serve precompressed assets, and prints one line per file:
// `path<TAB>raw<TAB>gzip<TAB>brotli` (bytes). Run by `cargo xtask dist` with Node's own zlib,
// so that no compressor has to be installed.

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const root = process.argv[2];
if (!root) {
  console.error('usage: node precompress.mjs DIR');
  process.exit(2);
}

function* files(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* files(full);
    else if (!/\.(gz|br)$/.test(entry.name)) yield full;
  }
}

for (const file of [...files(root)].sort()) {
  const raw = fs.readFileSync(file);
  const gz = zlib.gzipSync(raw, { level: 9 });
  const br = zlib.brotliCompressSync(raw, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
    },
  });
  fs.writeFileSync(`${file}.gz`, gz);
  fs.writeFileSync(`${file}.br`, br);
  console.log(`${path.relative(root, file)}\t${raw.length}\t${gz.length}\t${br.length}`);
}
