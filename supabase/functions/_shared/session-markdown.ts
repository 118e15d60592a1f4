/**
 * A chat session as Markdown, shared by the daemon's MCP server (the `cairn://session/<id>` resource and the
 * read_session tool) and the Edge Function cairn-api (`GET /sessions/<id>.md`), so both render a session
 * alike. Imports nothing (Node and Deno both load it; `supabase functions deploy` bundles only this folder).
 */

/** The fields of a session the Markdown shows (protocol `Session` fits). */
export interface MarkdownSession {
  id: string;
  title: string | null;
  visibility: string;
  archived: boolean;
  updatedAt: string;
}

/** The fields of a message the Markdown shows (protocol `Message` fits). */
export interface MarkdownMessage {
  seq: number;
  role: string;
  content: string;
  status: string;
  createdAt: string;
}

export function sessionMarkdown(session: MarkdownSession, messages: readonly MarkdownMessage[], access: string): string {
  const head = [
    `# ${session.title ?? 'Untitled session'}`,
    '',
    `- id: ${session.id}`,
    `- visibility: ${session.visibility}${session.archived ? ' (archived)' : ''}`,
    `- your access: ${access}`,
    `- updated: ${session.updatedAt}`,
  ];
  const body = messages
    .filter((m) => m.role === 'user' || m.role === 'assistant')
    .filter((m) => m.content.trim().length > 0)
    .map((m) => `## ${m.role === 'user' ? 'User' : 'Assistant'} (#${m.seq}, ${m.createdAt}${m.status === 'complete' ? '' : `, ${m.status}`})\n\n${m.content}`);
  return [...head, '', ...(body.length > 0 ? body : ['_No messages yet._'])].join('\n\n').replace(/\n\n- /g, '\n- ');
}
