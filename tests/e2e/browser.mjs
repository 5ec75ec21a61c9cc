// Shared helpers for the browser end-to-end tests: a static file server for dist/ and
// Debian's Chromium driven by playwright-core (which must never download a browser here).

import http from 'node:http';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DIST = path.join(REPO_ROOT, 'dist');
export const SCREENSHOTS = path.join(REPO_ROOT, 'tests/e2e/screenshots');

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// Without the background-networking flags Chromium floods the closed network with refused
// connections; as root it needs --no-sandbox.
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
};

/** Runs `body(browser, server)` against the built `dist/`, closing both whatever happens. */
export async function withBrowser(body) {
  const server = await serveDir(DIST);
  const browser = await launchBrowser();
  try {
    await body(browser, server);
  } finally {
    await browser.close();
    await server.close();
  }
}

/**
 * Serves `root` on 127.0.0.1 at `port` (a free one by default). Resolves to `{ url, close }`.
 */
export async function serveDir(root, port = 0) {
  await fs.access(path.join(root, 'index.html')).catch(() => {
    throw new Error(`${root}/index.html is missing: run \`cargo xtask dist\` first`);
  });
  const server = http.createServer(async (req, res) => {
    try {
      const { pathname } = new URL(req.url, 'http://localhost');
      const relative = decodeURIComponent(pathname).replace(/^\/+/, '') || 'index.html';
      const file = path.resolve(root, relative);
      if (file !== root && !file.startsWith(root + path.sep)) {
        res.writeHead(403).end();
        return;
      }
      const body = await fs.readFile(file);
      const type = CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream';
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const { port: bound } = server.address();
  return {
    url: `http://127.0.0.1:${bound}/`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/**
 * Collects what would tell a reader something broke: uncaught exceptions, console errors,
 * failed requests and HTTP errors.
 */
export function watchForErrors(page) {
  const errors = [];
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console error: ${message.text()}`);
  });
  // A request cut short because the page went on to another chapter's page is not an error.
  page.on('requestfailed', (request) => {
    const reason = request.failure()?.errorText;
    if (reason !== 'net::ERR_ABORTED') errors.push(`request failed: ${request.url()} ${reason}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400) errors.push(`HTTP ${response.status()}: ${response.url()}`);
  });
  return errors;
}

// Each animation frame callback is timed from its start until a message posted at its end
// arrives: that covers the simulation step and Yew's render, which runs in microtasks.
export const FRAME_TIMER = () => {
  const durations = [];
  window.__frameDurations = durations;
  const raf = window.requestAnimationFrame.bind(window);
  const channel = new MessageChannel();
  let started = [];
  channel.port1.onmessage = () => {
    const t = started.shift();
    if (t !== undefined) durations.push(performance.now() - t);
  };
  window.requestAnimationFrame = (cb) =>
    raf((ts) => {
      started.push(performance.now());
      try {
        cb(ts);
      } finally {
        channel.port2.postMessage(0);
      }
    });
};
