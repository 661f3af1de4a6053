/** The web inbox's static files: `index.html` at `/`, its scripts and styles under `/assets/`. */
import { readFileSync, readdirSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { SECURITY_HEADERS } from './http-io';

/** The folder of the inbox's files, next to this module (the build copies them beside the compiled code). */
export const INBOX_DIR = path.join(__dirname, 'inbox');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

interface Asset {
  body: Buffer;
  type: string;
}

/** Reads the inbox's files once, keyed by the URL path they are served at. */
export function loadInboxAssets(dir = INBOX_DIR): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(dir)) {
    const type = CONTENT_TYPES[path.extname(name)];
    if (!type) continue;
    assets.set(name === 'index.html' ? '/' : `/assets/${name}`, { body: readFileSync(path.join(dir, name)), type });
  }
  if (!assets.has('/')) throw new Error(`The inbox page is missing: no index.html in ${dir}`);
  return assets;
}

/** Serves an inbox file for GET and HEAD; anything else is a plain 404 or 405. */
export function serveInboxAsset(req: IncomingMessage, res: ServerResponse, pathname: string, assets: Map<string, Asset>): void {
  const asset = assets.get(pathname);
  if (!asset) {
    res.writeHead(404, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' }).end('Not found\n');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { ...SECURITY_HEADERS, Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }).end('Method not allowed\n');
    return;
  }
  res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': asset.type, 'Content-Length': asset.body.length, 'Cache-Control': 'no-cache' });
  res.end(req.method === 'HEAD' ? undefined : asset.body);
}
