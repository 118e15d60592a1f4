/** Markdown to safe HTML: markdown-it (no raw HTML), highlight.js for code, DOMPurify over the result. */
import MarkdownIt from 'markdown-it';
import DOMPurify from 'dompurify';
import hljs from 'highlight.js/lib/core';
import typescript from 'highlight.js/lib/languages/typescript';
import javascript from 'highlight.js/lib/languages/javascript';
import python from 'highlight.js/lib/languages/python';
import json from 'highlight.js/lib/languages/json';
import bash from 'highlight.js/lib/languages/bash';
import sql from 'highlight.js/lib/languages/sql';
import css from 'highlight.js/lib/languages/css';
import xml from 'highlight.js/lib/languages/xml';
import rust from 'highlight.js/lib/languages/rust';
import go from 'highlight.js/lib/languages/go';
import yaml from 'highlight.js/lib/languages/yaml';
import diff from 'highlight.js/lib/languages/diff';

for (const [name, lang] of Object.entries({ typescript, javascript, python, json, bash, sql, css, xml, rust, go, yaml, diff })) {
  hljs.registerLanguage(name, lang);
}
hljs.registerAliases(['ts', 'tsx'], { languageName: 'typescript' });
hljs.registerAliases(['js', 'jsx', 'mjs', 'cjs'], { languageName: 'javascript' });
hljs.registerAliases(['sh', 'shell', 'zsh', 'console'], { languageName: 'bash' });
hljs.registerAliases(['py'], { languageName: 'python' });
hljs.registerAliases(['html', 'svg'], { languageName: 'xml' });
hljs.registerAliases(['yml'], { languageName: 'yaml' });

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

const md = new MarkdownIt({ html: false, linkify: true, breaks: false });

// Each fenced block gets a toolbar (copy, insert at cursor); the code itself is read back from the DOM.
md.renderer.rules.fence = (tokens, idx) => {
  const token = tokens[idx]!;
  const lang = token.info.trim().split(/\s+/)[0] ?? '';
  const code = token.content;
  let body: string;
  if (lang && hljs.getLanguage(lang)) body = hljs.highlight(code, { language: lang, ignoreIllegals: true }).value;
  else body = escapeHtml(code);
  return `<div class="code-block"><div class="code-toolbar"><span class="code-lang">${escapeHtml(lang)}</span>` +
    `<button class="code-action" data-action="copy" title="Copy"><span class="codicon codicon-copy"></span></button>` +
    `<button class="code-action" data-action="insert" title="Insert at cursor"><span class="codicon codicon-insert"></span></button></div>` +
    `<pre><code class="hljs${lang ? ` language-${escapeHtml(lang)}` : ''}">${body}</code></pre></div>`;
};

export function renderMarkdown(text: string): string {
  return DOMPurify.sanitize(md.render(text), { ADD_ATTR: ['data-action'], FORBID_TAGS: ['style', 'form', 'input'] });
}
