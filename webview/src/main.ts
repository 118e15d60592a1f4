/**
 * The chat webview. It renders what the extension sends (see messages.ts) and sends back what the user does.
 * State (entries, draft, agent) is saved with setState, so the view comes back at once after being hidden;
 * the extension's snapshot then replaces it with the truth.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-textarea/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import './main.css';
import { renderMarkdown } from './markdown.js';
import { findLocations, wholeLocation, type Location } from './locations.js';
import { MAX_RENDERED_CHARS, type AgentOption, type ChatEntry, type ChatError, type FromWebview, type ToWebview, type ToWebviewMessage } from './messages.js';

interface VsCodeApi {
  postMessage(msg: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;
const vscode = acquireVsCodeApi();

interface ViewState {
  snapshot: ToWebview['snapshot'];
  agents: AgentOption[];
  draft: string;
  connected: boolean;
  connectionMessage: string | null;
}

const saved = vscode.getState() as Partial<ViewState> | undefined;
const emptyChat: ToWebview['snapshot'] = { sessionId: null, title: null, entries: [], agentId: 'default', connected: false, access: 'owner', error: null, indexed: null };
const state: ViewState = {
  // A state saved by an older version lacks the newer fields.
  snapshot: { ...emptyChat, ...saved?.snapshot },
  agents: saved?.agents ?? [{ id: 'default', name: 'Cairn', description: null }],
  draft: saved?.draft ?? '',
  connected: saved?.connected ?? false,
  connectionMessage: saved?.connectionMessage ?? null,
};
let errorBox: ChatError | null = state.snapshot.error;

function send<K extends keyof FromWebview>(type: K, body: FromWebview[K]): void {
  vscode.postMessage({ type, body });
}

let saveTimer: number | undefined;
function save(): void {
  clearTimeout(saveTimer);
  saveTimer = window.setTimeout(() => vscode.setState(state), 200);
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
}

const app = document.getElementById('app')!;
const banner = el('div', { class: 'banner', hidden: '' });
const log = el('div', { class: 'log', id: 'log', role: 'log', 'aria-live': 'polite' });
const errors = el('div', { id: 'errors' });
/** Questions about secrets in a submitted message; apart from `errors`, which re-renders with every snapshot. */
const warnings = el('div', { id: 'warnings' });
const input = el('vscode-textarea' as 'textarea', { id: 'input', placeholder: 'Ask about this workspace… (Enter to send, Shift+Enter for a new line)', rows: '3', resize: 'vertical' }) as HTMLTextAreaElement;
const agentSelect = el('vscode-single-select' as 'select', { id: 'agent', title: 'Agent' }) as HTMLSelectElement;
const sendButton = el('vscode-button' as 'button', { id: 'send', icon: 'send' }, 'Send');
const stopButton = el('vscode-button' as 'button', { id: 'stop', icon: 'debug-stop', secondary: '', hidden: '' }, 'Stop');
const newButton = el('vscode-button' as 'button', { id: 'new', icon: 'add', secondary: '', title: 'New chat', 'aria-label': 'New chat' });
const readOnlyNote = el(
  'div',
  { id: 'read-only', class: 'read-only-note', hidden: '' },
  el('span', { class: 'codicon codicon-eye' }),
  el('span', {}, 'You can read this team session; posting needs the member role.'),
);
const composer = el('div', { class: 'composer' }, readOnlyNote, input, el('div', { class: 'row' }, agentSelect, el('span', { class: 'spacer' }), newButton, stopButton, sendButton));
app.append(banner, log, errors, warnings, composer);

function renderBanner(): void {
  if (state.connected) {
    banner.hidden = true;
    return;
  }
  banner.hidden = false;
  banner.className = 'banner down';
  banner.replaceChildren(el('span', { class: 'codicon codicon-warning' }), el('span', {}, state.connectionMessage ?? 'Not connected to the Cairn daemon.'));
  const retry = el('vscode-button' as 'button', { secondary: '' }, 'Reconnect');
  retry.addEventListener('click', () => send('runAction', { command: 'cairn.reconnect' }));
  banner.append(retry);
}

function renderErrors(): void {
  errors.replaceChildren();
  if (!errorBox) return;
  const box = el('div', { class: 'error-box', role: 'alert' }, el('div', {}, errorBox.message));
  const actions = el('div', { class: 'actions' });
  for (const a of errorBox.actions) {
    const b = el('vscode-button' as 'button', {}, a.label);
    b.addEventListener('click', () => send('runAction', { command: a.command, ...(a.args ? { args: a.args } : {}) }));
    actions.append(b);
  }
  const dismiss = el('vscode-button' as 'button', { secondary: '' }, 'Dismiss');
  dismiss.addEventListener('click', () => {
    errorBox = null;
    state.snapshot.error = null;
    send('dismissError', {});
    renderErrors();
    save();
  });
  actions.append(dismiss);
  box.append(actions);
  errors.append(box);
}

/** The question about a secret in the message just submitted; answering removes it. */
function showSecretWarning(warningId: string, message: string): void {
  const box = el('div', { class: 'error-box secret-warning', role: 'alertdialog', 'data-warning-id': warningId }, el('div', {}, message));
  const actions = el('div', { class: 'actions' });
  const choices: Array<[FromWebview['secretChoice']['choice'], string, boolean]> = [
    ['redact', 'Redact and send', false],
    ['send', 'Send anyway', true],
    ['cancel', 'Cancel', true],
  ];
  for (const [choice, label, secondary] of choices) {
    const b = el('vscode-button' as 'button', secondary ? { secondary: '', 'data-choice': choice } : { 'data-choice': choice }, label);
    b.addEventListener('click', () => {
      box.remove();
      send('secretChoice', { warningId, choice });
    });
    actions.append(b);
  }
  box.append(actions);
  warnings.append(box);
}

function renderAgents(): void {
  agentSelect.replaceChildren(
    ...state.agents.map((a) => {
      const o = el('vscode-option' as 'option', { value: a.id, ...(a.description ? { description: a.description } : {}) }, a.name);
      if (a.id === state.snapshot.agentId) o.setAttribute('selected', '');
      return o;
    }),
  );
  (agentSelect as unknown as { value: string }).value = state.snapshot.agentId;
}

const entryNodes = new Map<string, HTMLElement>();

function renderBody(entry: ChatEntry, body: HTMLElement): void {
  if (entry.role === 'user') {
    body.textContent = entry.content;
    return;
  }
  if (entry.content.length > MAX_RENDERED_CHARS) {
    // Rendering megabytes of markdown on every delta would freeze the view; show the head as plain text.
    const note = el('div', { class: 'status-note' }, `This reply is ${(entry.content.length / 1024).toFixed(0)} KB; showing the first ${MAX_RENDERED_CHARS / 1000}k characters as plain text. `);
    const open = el('vscode-button' as 'button', { secondary: '' }, 'Open whole reply in an editor');
    open.addEventListener('click', () => send('openFull', { messageId: entry.id }));
    note.append(open);
    body.replaceChildren(note, el('div', { class: 'plain-reply' }, entry.content.slice(0, MAX_RENDERED_CHARS)));
    return;
  }
  body.innerHTML = entry.content ? renderMarkdown(entry.content) : entry.status === 'streaming' && entry.tools.length === 0 ? '<p class="thinking">Thinking…</p>' : '';
  linkLocations(body);
}

function locationLink(loc: Location, ...content: Node[]): HTMLElement {
  const lines = loc.endLine > loc.startLine ? `lines ${loc.startLine}–${loc.endLine}` : `line ${loc.startLine}`;
  const a = el('a', { class: 'location', role: 'link', tabindex: '0', title: `Open ${loc.path} at ${lines}` }, ...content);
  a.dataset.path = loc.path;
  a.dataset.start = String(loc.startLine);
  a.dataset.end = String(loc.endLine);
  return a;
}

/**
 * Makes every workspace location in rendered text (`src/a.ts:10-20`, in prose or as inline code) a link that
 * opens the file at those lines. Code blocks and existing links are left alone.
 */
function linkLocations(root: HTMLElement): void {
  for (const code of root.querySelectorAll('code')) {
    if (code.closest('pre, a')) continue;
    const loc = wholeLocation(code.textContent ?? '');
    if (loc) code.replaceWith(locationLink(loc, code.cloneNode(true)));
  }
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
    acceptNode: (n) => (n.parentElement?.closest('pre, code, a, button') ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT),
  });
  const texts: Text[] = [];
  while (walker.nextNode()) texts.push(walker.currentNode as Text);
  for (const t of texts) {
    const text = t.data;
    const matches = findLocations(text);
    if (matches.length === 0) continue;
    const parts: Node[] = [];
    let at = 0;
    for (const m of matches) {
      parts.push(document.createTextNode(text.slice(at, m.index)), locationLink(m.location, document.createTextNode(text.slice(m.index, m.index + m.length))));
      at = m.index + m.length;
    }
    parts.push(document.createTextNode(text.slice(at)));
    t.replaceWith(...parts);
  }
}

function renderTools(entry: ChatEntry, box: HTMLElement): void {
  box.replaceChildren(
    ...entry.tools.map((t) => {
      const icon = t.status === 'running' ? 'loading codicon-modifier-spin' : t.status === 'error' ? 'error' : 'tools';
      const args = Object.entries(t.args)
        .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(', ');
      const d = el('details', { class: `tool ${t.status}` }, el('summary', {}, el('span', { class: `codicon codicon-${icon}` }), `${t.name}(${args.length > 80 ? `${args.slice(0, 79)}…` : args})`));
      if (t.result) {
        const result = el('div', { class: 'result' }, t.result);
        linkLocations(result);
        d.append(result);
      }
      return d;
    }),
  );
}

function renderEntry(entry: ChatEntry): HTMLElement {
  let node = entryNodes.get(entry.id);
  if (!node) {
    node = el('div', { 'data-id': entry.id }, el('div', { class: 'who' }), el('div', { class: 'tools' }), el('div', { class: 'body' }), el('div', { class: 'status-note' }));
    entryNodes.set(entry.id, node);
  }
  node.className = `entry ${entry.role} ${entry.status}`;
  const [who, tools, body, note] = [...node.children] as HTMLElement[];
  who!.textContent = entry.role === 'user' ? (entry.author ?? 'You') : (state.agents.find((a) => a.id === state.snapshot.agentId)?.name ?? 'Cairn');
  node.classList.toggle('teammate', entry.author !== undefined);
  renderTools(entry, tools!);
  renderBody(entry, body!);
  note!.className = `status-note ${entry.status}`;
  note!.textContent =
    entry.status === 'cancelled' ? 'Stopped.' : entry.status === 'failed' ? (entry.error?.message ?? 'This reply failed.') : entry.status === 'pending' ? 'Sending…' : '';
  return node;
}

function renderAll(): void {
  const { entries } = state.snapshot;
  if (entries.length === 0) {
    entryNodes.clear();
    const empty = el('div', { class: 'empty' }, el('p', {}, 'Ask anything about this workspace. Cairn searches the knowledge base and answers with sources.'));
    if (state.snapshot.indexed === false) {
      // Only when the daemon said this folder has no index: once indexed, the tip would only be noise.
      const index = el('vscode-button' as 'button', { id: 'index-workspace', icon: 'database' }, 'Index this workspace');
      index.addEventListener('click', () => send('runAction', { command: 'cairn.indexWorkspace' }));
      empty.append(el('div', { class: 'index-tip' }, el('p', {}, 'This workspace is not indexed yet, so Cairn has nothing to search or cite.'), index));
    }
    log.replaceChildren(empty);
  } else {
    const keep = new Set(entries.map((e) => e.id));
    for (const id of entryNodes.keys()) if (!keep.has(id)) entryNodes.delete(id);
    log.replaceChildren(...entries.map(renderEntry));
  }
  renderComposer();
  renderBanner();
  stickToBottom();
}

/** A viewer reads the chat with the composer disabled and a note saying why; others can send when nothing streams. */
function renderComposer(): void {
  const readOnly = state.snapshot.access === 'read';
  const streaming = state.snapshot.entries.some((e) => e.status === 'streaming');
  readOnlyNote.hidden = !readOnly;
  composer.classList.toggle('read-only', readOnly);
  input.toggleAttribute('disabled', readOnly);
  agentSelect.toggleAttribute('disabled', readOnly);
  stopButton.hidden = !streaming || readOnly;
  sendButton.toggleAttribute('disabled', streaming || readOnly);
}

let stick = true;
log.addEventListener('scroll', () => {
  stick = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
});
function stickToBottom(): void {
  if (stick) log.scrollTop = log.scrollHeight;
}

// Streaming re-renders one entry at most once per frame, however fast deltas arrive.
const dirty = new Set<string>();
let frame = 0;
function scheduleEntry(id: string): void {
  dirty.add(id);
  frame ||= requestAnimationFrame(() => {
    frame = 0;
    for (const d of dirty) {
      const e = state.snapshot.entries.find((x) => x.id === d);
      if (e) renderEntry(e);
    }
    dirty.clear();
    stickToBottom();
    save();
  });
}

function replyEntry(messageId: string): ChatEntry {
  let e = state.snapshot.entries.find((x) => x.id === messageId);
  if (!e) {
    e = { id: messageId, role: 'assistant', content: '', status: 'streaming', tools: [] };
    state.snapshot.entries.push(e);
    log.append(renderEntry(e));
  }
  return e;
}

window.addEventListener('message', (event: MessageEvent<ToWebviewMessage>) => {
  const msg = event.data;
  switch (msg.type) {
    case 'snapshot':
      state.snapshot = msg.body;
      state.connected = msg.body.connected;
      errorBox = msg.body.error;
      renderAgents();
      renderAll();
      renderErrors();
      break;
    case 'delta': {
      const e = replyEntry(msg.body.messageId);
      e.content += msg.body.delta;
      scheduleEntry(e.id);
      return;
    }
    case 'tool': {
      const e = replyEntry(msg.body.messageId);
      const i = e.tools.findIndex((t) => t.toolCallId === msg.body.activity.toolCallId);
      if (i >= 0) e.tools[i] = msg.body.activity;
      else e.tools.push(msg.body.activity);
      scheduleEntry(e.id);
      return;
    }
    case 'done': {
      const e = replyEntry(msg.body.messageId);
      e.status = msg.body.status;
      if (msg.body.error) e.error = msg.body.error;
      renderAll();
      break;
    }
    case 'agents':
      state.agents = msg.body.agents;
      state.snapshot.agentId = msg.body.selected;
      renderAgents();
      break;
    case 'connection':
      state.connected = msg.body.connected;
      state.connectionMessage = msg.body.message;
      if (state.connected && errorBox?.actions.some((a) => a.command === 'cairn.reconnect')) errorBox = state.snapshot.error = null;
      renderBanner();
      renderErrors();
      break;
    case 'error':
      errorBox = state.snapshot.error = msg.body;
      renderErrors();
      break;
    case 'focus':
      input.focus();
      return;
    case 'secretWarning':
      showSecretWarning(msg.body.warningId, msg.body.message);
      return;
    case 'draft':
      if (!(input.value ?? '').trim()) {
        input.value = msg.body.text;
        state.draft = msg.body.text;
      }
      input.focus();
      break;
  }
  save();
});

function submit(): void {
  const content = (input.value ?? '').trim();
  if (!content) return;
  if (state.snapshot.access === 'read' || state.snapshot.entries.some((e) => e.status === 'streaming')) return;
  errorBox = state.snapshot.error = null;
  renderErrors();
  send('send', { content, agentId: state.snapshot.agentId });
  input.value = '';
  state.draft = '';
  save();
}

input.value = state.draft;
input.addEventListener('input', () => {
  state.draft = input.value;
  save();
});
input.addEventListener('keydown', (e: KeyboardEvent) => {
  if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    submit();
  }
});
sendButton.addEventListener('click', submit);
stopButton.addEventListener('click', () => send('stop', {}));
newButton.addEventListener('click', () => send('newChat', {}));
agentSelect.addEventListener('change', () => {
  state.snapshot.agentId = (agentSelect as unknown as { value: string }).value;
  send('selectAgent', { agentId: state.snapshot.agentId });
  save();
});
function openLocation(link: HTMLElement): void {
  const { path, start, end } = link.dataset;
  if (path && start && end) send('openLocation', { path, startLine: Number(start), endLine: Number(end) });
}
log.addEventListener('keydown', (e) => {
  const link = (e.target as HTMLElement).closest<HTMLElement>('a.location');
  if (link && (e.key === 'Enter' || e.key === ' ')) {
    e.preventDefault();
    openLocation(link);
  }
});
log.addEventListener('click', (e) => {
  const link = (e.target as HTMLElement).closest<HTMLElement>('a.location');
  if (link) {
    e.preventDefault();
    openLocation(link);
    return;
  }
  const button = (e.target as HTMLElement).closest<HTMLButtonElement>('button.code-action');
  if (!button) return;
  const code = button.closest('.code-block')?.querySelector('code')?.textContent ?? '';
  send(button.dataset.action === 'insert' ? 'insert' : 'copy', { text: code });
});

renderAgents();
renderAll();
renderErrors();
send('ready', {});
