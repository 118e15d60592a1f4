/**
 * Workspace locations in chat text, the way Cairn cites them (`src/a.ts:10-20`, `docs/guide.md:5`, the search
 * tool's `1. src/a.ts:3-9 (score …)`): found here so the chat can make each one open the file at those lines.
 * Kept free of the DOM so it is tested in Node.
 */
export interface Location {
  /** As written: relative to the workspace folder, or absolute. */
  path: string;
  startLine: number;
  endLine: number;
}

export interface LocationMatch {
  index: number;
  length: number;
  location: Location;
}

// A path (optionally absolute) and `:line` or `:start-end`. Not preceded by a character that would make it the
// tail of a URL or of a longer word (`https://host/a.ts:1`, `user@host:22`), not followed by more of a word.
const LOCATION = /(?<![\w/.:@+~\\-])(\/?(?:[\w@.+~-]+\/)*[\w@.+~-]+):(\d{1,7})(?:[-–](\d{1,7}))?(?![\w])/g;

/** A file path, not a host and port (`localhost:11434`, `git@github.com:22`) or a version or time (`1.2.3:4`): it has a folder or a file extension. */
function looksLikeFile(path: string): boolean {
  const name = path.slice(path.lastIndexOf('/') + 1);
  if (/^\.+$/.test(name) || name === '') return false;
  // `git@github.com:22` is a host (a scoped package folder such as `@scope/pkg` starts with its `@`).
  if (/^[^/]*[^/]@/.test(path)) return false;
  return path.includes('/') || /\.[A-Za-z][\w-]*$/.test(name);
}

export function findLocations(text: string): LocationMatch[] {
  const found: LocationMatch[] = [];
  for (const m of text.matchAll(LOCATION)) {
    const path = m[1]!;
    const startLine = Number(m[2]);
    if (!looksLikeFile(path) || startLine < 1) continue;
    const endLine = m[3] !== undefined ? Math.max(startLine, Number(m[3])) : startLine;
    found.push({ index: m.index, length: m[0].length, location: { path, startLine, endLine } });
  }
  return found;
}

/** The location when the whole text is one (an inline code span such as `src/a.ts:10-20`). */
export function wholeLocation(text: string): Location | null {
  const t = text.trim();
  const [m] = findLocations(t);
  return m && m.index === 0 && m.length === t.length ? m.location : null;
}
