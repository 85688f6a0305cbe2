-- Learning from reviews (server/learning/): places a rule must stay quiet about, made from rejections such as
-- "permanent object" / "licensed vendor" / "legal parking bay" or drawn on the rule page, permanent or expiring.
CREATE TABLE suppression_regions (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  rule_id          uuid NOT NULL REFERENCES rules(id) ON DELETE CASCADE,
  camera_id        uuid NOT NULL REFERENCES cameras(id) ON DELETE CASCADE,
  -- {x1, y1, x2, y2} normalised 0..1 to the frame, like events.box
  box              jsonb NOT NULL CHECK (jsonb_typeof(box) = 'object'),
  reason           text NOT NULL CHECK (char_length(reason) BETWEEN 1 AND 64),
  note             text CHECK (char_length(note) <= 1000),
  -- the rejected candidate it was learnt from (NULL when drawn by hand)
  source_event_id  uuid REFERENCES events(id) ON DELETE SET NULL,
  -- NULL = permanent
  expires_at       timestamptz,
  created_by       uuid REFERENCES users(id) ON DELETE SET NULL,
  updated_by       uuid REFERENCES users(id) ON DELETE SET NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX suppression_regions_rule_idx ON suppression_regions (rule_id);
CREATE INDEX suppression_regions_camera_idx ON suppression_regions (camera_id);
