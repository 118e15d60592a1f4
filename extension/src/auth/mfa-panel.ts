/** The TOTP enrolment panel: the QR code (drawn locally with `qrcode`) and the secret for manual entry. */
import * as vscode from 'vscode';
import QRCode from 'qrcode';

export async function showMfaEnrolment(otpauthUri: string, secret: string): Promise<vscode.WebviewPanel> {
  const qr = await QRCode.toDataURL(otpauthUri, { margin: 1, width: 220 });
  const panel = vscode.window.createWebviewPanel('cairn.mfa', 'Cairn: Two-Factor Authentication', vscode.ViewColumn.Active, {
    enableScripts: false,
    localResourceRoots: [],
  });
  const grouped = secret.replace(/(.{4})/g, '$1 ').trim();
  panel.webview.html = `<!DOCTYPE html><html><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<style>body{font-family:var(--vscode-font-family);color:var(--vscode-foreground);padding:24px;max-width:520px}
img{background:#fff;padding:8px;border-radius:4px}code{font-size:1.2em;letter-spacing:.05em;user-select:all}</style></head>
<body><h2>Set up two-factor authentication</h2>
<ol><li>Scan this code with an authenticator app (1Password, Google Authenticator, Authy…).</li>
<li>Or enter the secret by hand: <code id="secret">${grouped}</code></li>
<li>Type the 6-digit code the app shows in the box at the top of the window.</li></ol>
<img id="qr" alt="QR code for the authenticator app" src="${qr}" width="220" height="220"></body></html>`;
  return panel;
}
