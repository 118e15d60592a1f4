/** `workspace` namespace of the Cairn protocol. See define.ts for the declaration shape. */
import { z } from 'zod';
import { request } from './define.js';

export const projectSchema = z.object({
  id: z.string(),
  name: z.string(),
  teamId: z.string().nullable(),
});

/** One entry of a `ProjectChoiceNeeded` error's `data.candidates`: a team project the folder's remote matches. */
export const projectCandidateSchema = z.object({
  projectId: z.string().describe('The team project.'),
  projectName: z.string(),
  teamId: z.string(),
  teamName: z.string().describe('The name of the team the project belongs to, for the user to recognise it.'),
});

/** `data` of a `ProjectChoiceNeeded` error. */
export const projectChoiceNeededSchema = z.object({
  root: z.string().describe('The folder, as given.'),
  gitRemote: z.string().describe("The folder's normalised git remote (host/org/repo)."),
  candidates: z.array(projectCandidateSchema).describe('Team projects with that remote that the user can read, by team name.'),
});
export type ProjectChoiceNeeded = z.output<typeof projectChoiceNeededSchema>;

export const workspaceRequests = {
  'workspace/resolveProject': request('workspace/resolveProject', {
    summary:
      'The project of a workspace folder, never one the user did not choose: their choice for the folder (workspace/chooseProject), ' +
      'else the project they already use for it, else a personal project (created on first use). When the git remote matches a ' +
      'project of a team the user has not used with this folder, nothing is mapped: ProjectChoiceNeeded lists the candidates to ask about.',
    params: z.object({ root: z.string().min(1).describe('Absolute path of the workspace folder.') }),
    result: projectSchema,
    errors: ['NotSignedIn', 'PermissionDenied', 'ProjectChoiceNeeded'],
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
      'Maps a workspace folder to a project the user can read (a clone of a team\'s repository, a fork, or a folder without ' +
      'the team\'s git remote joins the team project), keeps it personal (personal: true), or forgets the choice with projectId ' +
      'null. The answer to ProjectChoiceNeeded; remembered, and only this user\'s mapping changes. It falls back to the usual ' +
      'mapping if they lose access to the project. Returns the project the folder now maps to.',
    params: z.object({
      root: z.string().min(1).describe('Absolute path of the workspace folder.'),
      projectId: z.guid().nullable().describe('The project to map the folder to, or null (to forget the choice, or with personal).'),
      personal: z
        .literal(true)
        .optional()
        .describe("Keep the folder personal: its own personal project (created if needed), remembered. projectId must be null."),
    }),
    result: projectSchema,
    errors: ['NotSignedIn', 'NotFound', 'InvalidInput', 'ProjectChoiceNeeded'],
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
      text: z.string().describe('`path:first-last`, then one `number<TAB>line` per line, then a note when the file goes on.'),
    }),
    errors: ['InvalidInput'],
    example: {
      params: { root: '/home/ada/src/cairn', path: 'daemon/src/kb/search.ts', startLine: 1, endLine: 2 },
      result: { text: 'daemon/src/kb/search.ts:1-2\n1\t/**\n2\t * Knowledge-base search.\n\n… 120 more lines; read from line 3.' },
    },
  }),
} as const;

export const workspaceNotifications = {} as const;
