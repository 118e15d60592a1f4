// Rewrites only the extension-owned keys of package.json (contributes, activationEvents, …), leaving every
// other key exactly as it is, because other parts of the project own the rest of the file.
// Usage: node extension/scripts/manifest.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

const file = resolve(import.meta.dirname, '../../package.json');
const pkg = JSON.parse(readFileSync(file, 'utf8'));

const sessionItem = 'view == cairn.sessions && viewItem =~ /^session/';
const commands = [
  ['cairn.signIn', 'Sign In', '$(account)'],
  ['cairn.signOut', 'Sign Out Everywhere', '$(sign-out)'],
  ['cairn.enrollMfa', 'Set Up Two-Factor Authentication (TOTP)', '$(shield)'],
  ['cairn.newChat', 'New Chat', '$(add)'],
  ['cairn.searchKnowledgeBase', 'Search Knowledge Base', '$(search)'],
  ['cairn.indexWorkspace', 'Index Workspace', '$(database)'],
  ['cairn.setModelApiKey', 'Set Model API Key', '$(key)'],
  ['cairn.openSession', 'Open Session', '$(comment-discussion)'],
  ['cairn.shareSession', 'Share Session with Team', '$(live-share)'],
  ['cairn.unshareSession', 'Make Session Private', '$(lock)'],
  ['cairn.renameSession', 'Rename Session', '$(edit)'],
  ['cairn.archiveSession', 'Archive Session', '$(archive)'],
  ['cairn.deleteSession', 'Delete Session', '$(trash)'],
  ['cairn.refreshSessions', 'Refresh Sessions', '$(refresh)'],
  ['cairn.reconnect', 'Reconnect to Daemon', '$(debug-restart)'],
  ['cairn.showLog', 'Show Log', '$(output)'],
].map(([command, title, icon]) => ({ command, title, category: 'Cairn', icon }));

pkg.categories = ['AI', 'Chat', 'Machine Learning', 'Other'];
pkg.keywords = ['chat', 'agents', 'knowledge base', 'search', 'supabase', 'rag', 'team'];
pkg.icon = 'media/icon.png';
pkg.galleryBanner = { color: '#2b2f36', theme: 'dark' };
pkg.repository = { type: 'git', url: 'https://github.com/cairn-dev/cairn' };
pkg.capabilities = {
  untrustedWorkspaces: { supported: 'limited', description: 'Indexing and agent tools that read files need a trusted workspace.' },
  virtualWorkspaces: { supported: false, description: 'The daemon indexes files on the local disk.' },
};
// Views, commands and the auth provider activate the extension on their own (VS Code >= 1.74); the URI
// handler and the account menu need these.
pkg.activationEvents = ['onUri', 'onAuthenticationRequest:cairn'];
pkg.contributes = {
  commands,
  viewsContainers: {
    activitybar: [{ id: 'cairn', title: 'Cairn', icon: 'media/cairn.svg' }],
  },
  views: {
    cairn: [
      { id: 'cairn.chat', name: 'Chat', type: 'webview', icon: 'media/cairn.svg' },
      { id: 'cairn.sessions', name: 'Sessions', icon: 'media/cairn.svg' },
    ],
  },
  viewsWelcome: [
    {
      view: 'cairn.sessions',
      contents: 'No sessions yet.\n[New Chat](command:cairn.newChat)\nSearch what your workspace knows:\n[Search Knowledge Base](command:cairn.searchKnowledgeBase)',
    },
  ],
  menus: {
    'view/title': [
      { command: 'cairn.newChat', when: 'view == cairn.sessions || view == cairn.chat', group: 'navigation@1' },
      { command: 'cairn.refreshSessions', when: 'view == cairn.sessions', group: 'navigation@2' },
      { command: 'cairn.searchKnowledgeBase', when: 'view == cairn.chat', group: 'navigation@2' },
    ],
    'view/item/context': [
      { command: 'cairn.openSession', when: sessionItem, group: '1_open@1' },
      { command: 'cairn.renameSession', when: sessionItem, group: '2_edit@1' },
      { command: 'cairn.shareSession', when: 'view == cairn.sessions && viewItem == session.private.own', group: '2_edit@2' },
      { command: 'cairn.unshareSession', when: 'view == cairn.sessions && viewItem == session.team.own', group: '2_edit@3' },
      { command: 'cairn.archiveSession', when: sessionItem, group: '3_remove@1' },
      { command: 'cairn.deleteSession', when: 'view == cairn.sessions && viewItem =~ /\\.own$/', group: '3_remove@2' },
      { command: 'cairn.renameSession', when: sessionItem, group: 'inline@1' },
    ],
    'editor/context': [
      { command: 'cairn.searchKnowledgeBase', when: 'editorHasSelection', group: 'cairn@1' },
    ],
  },
  keybindings: [
    { command: 'cairn.searchKnowledgeBase', key: 'ctrl+alt+k', mac: 'cmd+alt+k' },
  ],
  authentication: [{ id: 'cairn', label: 'Cairn' }],
  configuration: {
    title: 'Cairn',
    properties: {
      'cairn.model.baseUrl': {
        type: 'string',
        default: '',
        markdownDescription: 'Base URL of an OpenAI-compatible chat endpoint, e.g. `https://api.openai.com/v1` or `http://127.0.0.1:11434/v1` for Ollama. Empty: Cairn answers from the knowledge base alone. The key is set with **Cairn: Set Model API Key** and kept in the OS keychain, never here.',
      },
      'cairn.model.name': {
        type: 'string',
        default: '',
        markdownDescription: 'Chat model name at that endpoint, e.g. `gpt-4o-mini` or `llama3.1`.',
      },
      'cairn.embeddings.provider': {
        type: 'string',
        enum: ['local-hash', 'openai'],
        enumDescriptions: [
          'Offline embeddings computed locally: no key, no network, lexical-ish quality.',
          'An OpenAI-compatible embeddings endpoint (uses the model base URL and key unless set otherwise).',
        ],
        default: 'local-hash',
        description: 'How the knowledge base embeds text. Changing it re-indexes into a new generation; search keeps the old one until the new one is complete.',
      },
      'cairn.embeddings.model': {
        type: 'string',
        default: '',
        markdownDescription: 'Embedding model name for the `openai` provider, e.g. `text-embedding-3-small`.',
      },
      'cairn.index.exclude': {
        type: 'array',
        items: { type: 'string' },
        default: [],
        markdownDescription: 'Extra paths to leave out of the knowledge base, in `.gitignore` syntax (e.g. `dist/`, `*.min.js`). `.gitignore` and `.cairnignore` are always respected.',
      },
      'cairn.supabase.url': {
        type: 'string',
        default: '',
        markdownDescription: 'Team mode: your Supabase project URL, e.g. `https://abcd.supabase.co`. Empty: embedded mode, offline, one local user, no sign-in.',
      },
      'cairn.supabase.anonKey': {
        type: 'string',
        default: '',
        markdownDescription: "Team mode: the project's anon (publishable) key. It is public by design; Row Level Security protects the data.",
      },
    },
  },
  walkthroughs: [
    {
      id: 'cairn.gettingStarted',
      title: 'Get started with Cairn',
      description: 'From install to a first search and a first answer, in four steps.',
      steps: [
        {
          id: 'openChat',
          title: 'Open the Cairn chat',
          description: 'Cairn lives in its own view in the activity bar. Everything runs on your machine by default.\n[Open Chat](command:cairn.newChat)',
          media: { markdown: 'walkthrough/open-chat.md' },
          completionEvents: ['onView:cairn.chat'],
        },
        {
          id: 'indexWorkspace',
          title: 'Index this workspace',
          description: 'Cairn reads your files (respecting .gitignore) into a local knowledge base. It is resumable and watches for changes.\n[Index Workspace](command:cairn.indexWorkspace)',
          media: { markdown: 'walkthrough/index.md' },
          completionEvents: ['onCommand:cairn.indexWorkspace'],
        },
        {
          id: 'search',
          title: 'Search the knowledge base',
          description: 'Type a question or an identifier and jump to the passage. Select code first to search for it.\n[Search Knowledge Base](command:cairn.searchKnowledgeBase)',
          media: { markdown: 'walkthrough/search.md' },
          completionEvents: ['onCommand:cairn.searchKnowledgeBase'],
        },
        {
          id: 'firstAnswer',
          title: 'Ask your first question',
          description: 'Without a model, Cairn answers with the most relevant passages. Connect any OpenAI-compatible model for full answers.\n[Set Model API Key](command:cairn.setModelApiKey)\n[Open Settings](command:workbench.action.openSettings?%22cairn.model%22)',
          media: { markdown: 'walkthrough/first-answer.md' },
          completionEvents: ['onCommand:cairn.setModelApiKey', 'onSettingChanged:cairn.model.baseUrl'],
        },
      ],
    },
  ],
};

writeFileSync(file, `${JSON.stringify(pkg, null, 2)}\n`);
