-- Evidence retention (server/analytics/evidence-retention.ts): the files of rejected and expired candidates are
-- removed after the configured days; the event rows stay, marked with when their evidence went.
ALTER TABLE events ADD COLUMN evidence_purged_at timestamptz;

-- what the sweeper looks for: reviewed-away events whose evidence is still on disk
CREATE INDEX events_evidence_due_idx ON events ((coalesce(reviewed_at, closed_at, last_seen)))
  WHERE status IN ('rejected', 'expired') AND evidence_purged_at IS NULL;
