/**
 * `cairn invitations list|accept|decline`: the team invitations waiting for the signed-in user's answer (the
 * daemon must act as a user of a team project, signed in from the editor). Joining a team is the invitee's
 * own act: nothing here answers unless told to.
 */
import { CliError, type CliCommand } from '../command.js';

const USAGE = ['cairn invitations [list] [--json]', 'cairn invitations accept <id>', 'cairn invitations decline <id>'].join('\n       ');

export const command: CliCommand = {
  name: 'invitations',
  summary: 'List the team invitations sent to you, and accept or decline one.',
  usage: USAGE,
  async run(ctx) {
    const [sub = 'list', id, ...extra] = ctx.args;
    if (extra.length > 0) throw new CliError(`cairn invitations ${sub} takes at most one id`, 2);
    const needId = () => {
      if (!id) throw new CliError(`cairn invitations ${sub} needs an invitation id (see cairn invitations list)`, 2);
      return id;
    };
    switch (sub) {
      case 'list': {
        const client = await ctx.connect();
        const invitations = await client.request('teams/myInvitations', {});
        if (ctx.json) {
          ctx.stdout(JSON.stringify(invitations));
        } else if (invitations.length === 0) {
          ctx.stdout('no team invitation waits for you');
        } else {
          ctx.stdout(
            invitations
              .map((i) => {
                const from = i.invitedBy ? (i.invitedBy.email ?? i.invitedBy.displayName ?? i.invitedBy.id) : 'a former member';
                return `${i.id}  ${i.teamName} as ${i.role}, from ${from}, until ${i.expiresAt.slice(0, 10)}`;
              })
              .join('\n'),
          );
        }
        return 0;
      }
      case 'accept': {
        const client = await ctx.connect();
        const team = await client.request('teams/acceptInvitation', { invitationId: needId() });
        ctx.stdout(ctx.json ? JSON.stringify(team) : `joined ${team.name} as ${team.role}`);
        return 0;
      }
      case 'decline': {
        const client = await ctx.connect();
        await client.request('teams/declineInvitation', { invitationId: needId() });
        ctx.stdout(ctx.json ? JSON.stringify({ declined: true }) : `declined ${id}`);
        return 0;
      }
      default:
        throw new CliError(`unknown subcommand '${sub}'; usage: ${USAGE}`, 2);
    }
  },
};
