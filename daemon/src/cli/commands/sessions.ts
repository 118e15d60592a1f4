/**
 * `cairn sessions list|show|rename|archive|delete`: the conversations stored for this user (own and
 * team-shared), the same ones the editor shows.
 */
import { resolve } from 'node:path';
import { CliError, type CliCommand } from '../command.js';

const USAGE = [
  'cairn sessions list [--dir d] [--limit n] [--archived] [--json]',
  'cairn sessions show <id> [--json]',
  'cairn sessions rename <id> "<title>"',
  'cairn sessions archive <id>',
  'cairn sessions delete <id>',
].join('\n       ');

export const command: CliCommand = {
  name: 'sessions',
  summary: 'List, show, rename, archive or delete chat sessions.',
  usage: USAGE,
  async run(ctx) {
    const [sub = 'list', id, ...rest] = ctx.args;
    const needId = () => {
      if (!id) throw new CliError(`cairn sessions ${sub} needs a session id`, 2);
      return id;
    };
    switch (sub) {
      case 'list': {
        const limit = Number(ctx.flags.limit ?? 50);
        if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw new CliError('--limit must be a whole number from 1 to 200', 2);
        const client = await ctx.connect();
        const { sessions } = await client.request('sessions/list', {
          limit,
          includeArchived: ctx.flags.archived === true,
          ...(typeof ctx.flags.dir === 'string' ? { root: resolve(ctx.cwd, ctx.flags.dir) } : {}),
        });
        if (ctx.json) {
          ctx.stdout(JSON.stringify(sessions.map((s) => ({ id: s.id, title: s.title, visibility: s.visibility, projectId: s.projectId, updatedAt: s.updatedAt }))));
        } else if (sessions.length === 0) {
          ctx.stdout('no sessions yet (start one with cairn chat "<message>")');
        } else {
          ctx.stdout(sessions.map((s) => `${s.id}  ${s.updatedAt.slice(0, 16).replace('T', ' ')}  ${s.visibility.padEnd(7)}  ${s.title ?? ''}${s.archived ? '  (archived)' : ''}`).join('\n'));
        }
        return 0;
      }
      case 'show': {
        const client = await ctx.connect();
        const got = await client.request('sessions/get', { sessionId: needId(), limit: 500 });
        if (ctx.json) {
          ctx.stdout(JSON.stringify(got));
          return 0;
        }
        ctx.stdout(`# ${got.session.title ?? ''} (${got.session.visibility})`);
        for (const m of got.messages) {
          ctx.stdout(`\n${m.role}${m.status === 'complete' ? '' : ` (${m.status})`}:\n${m.content}`);
          for (const t of m.tools) ctx.stdout(`  [calls ${t.name} ${JSON.stringify(t.args)}: ${t.status}]`);
        }
        return 0;
      }
      case 'rename': {
        const title = rest.join(' ').trim();
        if (!title) throw new CliError('cairn sessions rename needs a title', 2);
        const client = await ctx.connect();
        const s = await client.request('sessions/rename', { sessionId: needId(), title });
        ctx.stdout(ctx.json ? JSON.stringify(s) : `renamed to "${s.title}"`);
        return 0;
      }
      case 'archive': {
        const client = await ctx.connect();
        const s = await client.request('sessions/archive', { sessionId: needId() });
        ctx.stdout(ctx.json ? JSON.stringify(s) : `archived ${s.id}`);
        return 0;
      }
      case 'delete': {
        const client = await ctx.connect();
        await client.request('sessions/delete', { sessionId: needId() });
        ctx.stdout(ctx.json ? JSON.stringify({ deleted: true }) : `deleted ${id}`);
        return 0;
      }
      default:
        throw new CliError(`unknown subcommand '${sub}'; usage: ${USAGE}`, 2);
    }
  },
};
