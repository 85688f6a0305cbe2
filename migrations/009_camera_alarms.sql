-- Camera alarms from the cameras' own ONVIF events (server/alarms/): video tampering (lens covered or turned),
-- video loss, motion. One row per alarm from the moment the camera raised it until it cleared; operators
-- acknowledge them.
CREATE TABLE camera_alarms (
  id          bigserial PRIMARY KEY,
  camera_id   uuid NOT NULL REFERENCES cameras(id) ON DELETE CASCADE,
  kind        text NOT NULL CHECK (kind IN ('motion', 'tamper', 'video_loss', 'other')),
  topic       text NOT NULL,
  started_at  timestamptz NOT NULL,
  ended_at    timestamptz,
  acked_by    uuid REFERENCES users(id) ON DELETE SET NULL,
  acked_at    timestamptz
);
-- at most one open alarm per camera and kind: a camera repeating "still active" never opens a second one
CREATE UNIQUE INDEX camera_alarms_open_idx ON camera_alarms (camera_id, kind) WHERE ended_at IS NULL;
CREATE INDEX camera_alarms_started_idx ON camera_alarms (started_at DESC);
