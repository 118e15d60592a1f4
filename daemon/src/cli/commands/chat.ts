/**
 * `cairn chat "<message>" [--session id] [--agent name] [--dir d] [--json]`: sends one message and streams
 * the reply to stdout as it arrives (tool activity on stderr). Ctrl-C cancels the reply, which is then
 * stored as cancelled. With `--json` it prints `{ sessionId, messageId, content, usage }` at the end.
 */
import { resolve } from 'node:path';
import type { NotificationParamsOf } from '../../protocol/index.js';
import { CliError, type CliCommand, type CliContext } from '../command.js';

type Delta = NotificationParamsOf<'chat/delta'>;
type Tool = NotificationParamsOf<'chat/tool'>;
type Done = NotificationParamsOf<'chat/done'>;

/**
 * Writes the reply as it streams. CliContext.stdout writes whole lines, so text is passed on a line at a time
 * (the rest at the end); on a terminal, tokens go straight to the screen as they come.
 */
function replyWriter(ctx: CliContext, live: boolean) {
  let pending = '';
  return {
    push(text: string) {
      if (live) {
        process.stdout.write(text);
        return;
      }
      pending += text;
      const nl = pending.lastIndexOf('\n');
      if (nl >= 0) {
        ctx.stdout(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
      }
    },
    end() {
      if (live) process.stdout.write('\n');
      else if (pending.length > 0) ctx.stdout(pending);
      pending = '';
    },
  };
}

export const command: CliCommand = {
  name: 'chat',
  summary: 'Ask the agent a question about the folder (default: the current one) and stream the answer.',
  usage: 'cairn chat "<message>" [--session id] [--agent name] [--dir d] [--json]',
  async run(ctx) {
    const content = ctx.args.join(' ').trim();
    if (!content) throw new CliError('cairn chat needs a message, e.g. cairn chat "how is indexing resumed?"', 2);
    for (const f of ['session', 'agent', 'dir'] as const) {
      if (ctx.flags[f] === true) throw new CliError(`--${f} needs a value`, 2);
    }
    const sessionId = typeof ctx.flags.session === 'string' ? ctx.flags.session : undefined;
    const agentId = typeof ctx.flags.agent === 'string' ? ctx.flags.agent : undefined;
    const root = resolve(ctx.cwd, typeof ctx.flags.dir === 'string' ? ctx.flags.dir : '.');

    const client = await ctx.connect();
    // TERM=dumb (or a pipe) gets whole lines through ctx.stdout.
    const live = !ctx.json && process.stdout.isTTY === true && ctx.env.TERM !== 'dumb';
    const out = replyWriter(ctx, live);
    // Notifications can overtake the chat/send answer, so they are kept per message until the reply id is known.
    const deltas = new Map<string, Delta[]>();
    const tools = new Map<string, Tool[]>();
    let replyId: string | null = null;
    let finish!: (d: Done) => void;
    const finished = new Promise<Done>((r) => (finish = r));
    const dones = new Map<string, Done>();
    let nextIndex = 0;
    const early = new Map<number, string>();
    const received: string[] = [];

    const showDelta = (d: Delta) => {
      // Deltas are published in order; `index` keeps them in order even so.
      early.set(d.index, d.delta);
      while (early.has(nextIndex)) {
        const text = early.get(nextIndex)!;
        early.delete(nextIndex++);
        received.push(text);
        if (!ctx.json) out.push(text);
      }
    };
    const showTool = (t: Tool) => {
      if (!ctx.json && t.status !== 'running') ctx.stderr(`[${t.name} ${t.status === 'done' ? 'done' : 'failed'}: ${JSON.stringify(t.args)}]`);
    };

    const offs = [
      client.onNotification('chat/delta', (d) => {
        if (replyId === null) deltas.set(d.messageId, [...(deltas.get(d.messageId) ?? []), d]);
        else if (d.messageId === replyId) showDelta(d);
      }),
      client.onNotification('chat/tool', (t) => {
        if (replyId === null) tools.set(t.messageId, [...(tools.get(t.messageId) ?? []), t]);
        else if (t.messageId === replyId) showTool(t);
      }),
      client.onNotification('chat/done', (d) => {
        if (replyId === null) dones.set(d.messageId, d);
        else if (d.messageId === replyId) finish(d);
      }),
    ];
    const onSigint = () => {
      if (replyId) void client.request('chat/cancel', { messageId: replyId }).catch(() => undefined);
    };
    process.on('SIGINT', onSigint);
    try {
      const sent = await client.request('chat/send', { content, root, ...(sessionId ? { sessionId } : {}), ...(agentId ? { agentId } : {}) });
      replyId = sent.replyId;
      for (const d of deltas.get(replyId) ?? []) showDelta(d);
      for (const t of tools.get(replyId) ?? []) showTool(t);
      const earlyDone = dones.get(replyId);
      if (earlyDone) finish(earlyDone);
      const done = await finished;
      out.end();
      const text = received.join('');
      if (ctx.json) {
        ctx.stdout(JSON.stringify({ sessionId: sent.sessionId, messageId: sent.replyId, content: text, status: done.status, usage: done.usage ?? null, ...(done.error ? { error: done.error } : {}) }));
      }
      if (done.status === 'failed') {
        // The daemon's words are client-neutral; here the key comes from the environment.
        const hint = /API key/.test(done.error?.message ?? '') ? ' The CLI hands the daemon OPENAI_API_KEY from its environment.' : '';
        throw new CliError(`the reply failed: ${done.error?.message ?? 'unknown error'} (${done.error?.code ?? 'ProviderError'})${hint}`);
      }
      if (done.status === 'cancelled') throw new CliError('the reply was cancelled; the partial answer is saved in the session');
      if (!ctx.json) ctx.stderr(`session ${sent.sessionId}${done.usage ? ` · ${done.usage.model} · ${done.usage.promptTokens}+${done.usage.completionTokens} tokens` : ''}`);
      return 0;
    } finally {
      process.off('SIGINT', onSigint);
      for (const off of offs) off();
    }
  },
};
