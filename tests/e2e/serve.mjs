// `node tests/e2e/serve.mjs DIR PORT`: serves a built dist/ on 127.0.0.1 (what
// `cargo xtask serve` runs), with the browser tests' own static server.

import path from 'node:path';
import { serveDir } from './browser.mjs';

const [dir = 'dist', port = '8080'] = process.argv.slice(2);
const server = await serveDir(path.resolve(dir), Number(port));
console.log(`serving ${dir} at ${server.url}`);
