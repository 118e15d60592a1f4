// Holes the suite finds in today's schema that are known and not yet closed, each with the rule it breaks and
// why it is still open. A finding that no entry here matches fails the suite; an entry that matches nothing
// any more is reported ("no longer found") so it can be removed. Keep this list short and honest: it is the
// schema's list of open tenant-isolation holes.
export interface KnownGap {
  rule: string;
  /** Matched against `actor × target: what`. */
  match: RegExp;
  why: string;
}

// None open: the holes found on 2026-12-07 (writable created_at, private sessions in the team audit log,
// messages with role system, the key-hash and slug 23505 answers, writable seq and profiles.email) were closed by
// the column-level grants, one audience per audit entry, server-made keys and slugs, and frozen attribution.
export const KNOWN_GAPS: KnownGap[] = [];
