/** `workspace` namespace of the Cairn protocol. See define.ts for the declaration shape. */
import { z } from 'zod';
import { request } from './define.js';

export const projectSchema = z.object({
  id: z.string(),
  name: z.string(),
  teamId: z.string().nullable(),
});

export const workspaceRequests = {
  'workspace/resolveProject': request('workspace/resolveProject', {
    summary:
      'The project of a workspace folder, created on first use: the same git remote maps to the same project for every teammate; a plain folder gets a personal project.',
    params: z.object({ root: z.string().min(1).describe('Absolute path of the workspace folder.') }),
    result: projectSchema,
    errors: ['NotSignedIn', 'PermissionDenied'],
    example: {
      params: { root: '/home/ada/src/cairn' },
      result: { id: '3d0f6a43-0c2e-4f0e-9d36-0f1f9a3a7d21', name: 'cairn', teamId: null },
    },
  }),
  'workspace/listProjects': request('workspace/listProjects', {
    summary: 'The projects the user can read (personal ones and their teams\'), by name: what a folder can be mapped to.',
    params: z.object({}),
    result: z.object({ projects: z.array(projectSchema) }),
    errors: ['NotSignedIn'],
    example: {
      params: {},
      result: { projects: [{ id: '3d0f6a43-0c2e-4f0e-9d36-0f1f9a3a7d21', name: 'cairn', teamId: '0b8e7c52-4f1a-4d7e-9a61-2c3d4e5f6a7b' }] },
    },
  }),
  'workspace/chooseProject': request('workspace/chooseProject', {
    summary:
      'Maps a workspace folder to a project the user can read (a fork or a folder without the team\'s git remote ' +
      'joins the team project), or forgets the choice with projectId null. Only this user\'s mapping changes; ' +
      'it falls back to the usual one if they lose access to the project. Returns the project the folder now maps to.',
    params: z.object({
      root: z.string().min(1).describe('Absolute path of the workspace folder.'),
      projectId: z.guid().nullable().describe('The project to map the folder to, or null to forget the choice.'),
    }),
    result: projectSchema,
    errors: ['NotSignedIn', 'NotFound', 'InvalidInput'],
    example: {
      params: { root: '/home/ada/src/cairn-fork', projectId: '3d0f6a43-0c2e-4f0e-9d36-0f1f9a3a7d21' },
      result: { id: '3d0f6a43-0c2e-4f0e-9d36-0f1f9a3a7d21', name: 'cairn', teamId: '0b8e7c52-4f1a-4d7e-9a61-2c3d4e5f6a7b' },
    },
  }),
  'workspace/readFile': request('workspace/readFile', {
    summary:
      'Reads a text file of a workspace folder, with line numbers (up to 400 lines, 64 KiB per call), under the same ' +
      'confinement as the chat tools: paths that leave the folder, directly or through a symlink, are refused.',
    params: z.object({
      root: z.string().min(1).describe('Absolute path of the workspace folder.'),
      path: z.string().min(1).max(4096).describe('Path relative to the folder (or absolute, inside it).'),
      startLine: z.number().int().min(1).default(1),
      endLine: z.number().int().min(1).optional().describe('Last line to read; default startLine + 399.'),
    }),
    result: z.object({
      /** `path:first-last`, then one `number<TAB>line` per line, then a note when the file goes on. */
      text: z.string(),
    }),
    errors: ['InvalidInput'],
    example: {
      params: { root: '/home/ada/src/cairn', path: 'daemon/src/kb/search.ts', startLine: 1, endLine: 2 },
      result: { text: 'daemon/src/kb/search.ts:1-2\n1\t/**\n2\t * Knowledge-base search.\n\n… 120 more lines; read from line 3.' },
    },
  }),
} as const;

export const workspaceNotifications = {} as const;
