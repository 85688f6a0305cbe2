-- 110 hand-offs whose category code is not in the local map are kept, not refused: event_type stays NULL
-- (unclassified) until someone at the desk classifies them. Fields newer 110 systems send that StreetEye does not
-- know are kept as sent in extra_fields.
ALTER TABLE incidents_110 ALTER COLUMN event_type DROP NOT NULL;
ALTER TABLE incidents_110 ADD COLUMN extra_fields jsonb NOT NULL DEFAULT '{}'::jsonb;
CREATE INDEX incidents_110_unclassified_idx ON incidents_110 (received_at) WHERE event_type IS NULL;
