-- How far each follower of a durable feed has got (server/cases/transition-feed.ts): the last case_history id
-- it has handled. The 110 desk mirrors case transitions into its incidents this way, after the case commits.
-- Until now the desk was updated inside the case's own transaction, so every transition already written is
-- mirrored: the desk's cursor starts at the newest history row.
CREATE TABLE consumer_cursors (
  consumer   text PRIMARY KEY,
  position   bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO consumer_cursors (consumer, position) SELECT 'desk110.case-sync', coalesce(max(id), 0) FROM case_history;
