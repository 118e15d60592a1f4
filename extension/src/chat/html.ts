/**
 * The chat webview's page and its Content-Security-Policy: nothing loads but the bundled script and styles of
 * this page (by nonce) and the extension's own assets. No `vscode` here: the view passes in the webview's CSP
 * source and its asset URIs.
 */
import { randomBytes } from 'node:crypto';

export interface ChatPageSources {
  /** The webview's `cspSource` (the origin its local resources load from). */
  cspSource: string;
  /** The webview URI of a file in dist/webview. */
  asset(path: string): string;
}

/** A fresh nonce for one page: 32 letters and digits. */
export function pageNonce(): string {
  return randomBytes(24).toString('base64').replace(/[+/]/g, 'A');
}

export function chatPageCsp(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `font-src ${cspSource}`,
    `img-src ${cspSource} data:`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
}

export function chatPageHtml({ cspSource, asset }: ChatPageSources, nonce = pageNonce()): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${chatPageCsp(cspSource, nonce)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${asset('codicons/codicon.css')}" id="vscode-codicon-stylesheet" nonce="${nonce}">
<link rel="stylesheet" href="${asset('main.css')}" nonce="${nonce}">
<title>Cairn Chat</title>
</head>
<body>
<div id="app" data-csp-nonce="${nonce}"></div>
<script nonce="${nonce}" src="${asset('main.js')}"></script>
</body>
</html>`;
}
