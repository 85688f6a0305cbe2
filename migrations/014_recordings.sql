-- Recording and playback (server/recording/): what each camera records, the recorded files, and explicit locks.

-- Per camera, edited by technicians (restricted cameras: by the police). No row = off.
CREATE TABLE recording_settings (
  camera_id        uuid PRIMARY KEY REFERENCES cameras(id) ON DELETE CASCADE,
  mode             text NOT NULL DEFAULT 'off' CHECK (mode IN ('off', 'continuous', 'events', 'schedule')),
  stream           text NOT NULL DEFAULT 'sub' CHECK (stream IN ('main', 'sub')),
  retention_days   integer NOT NULL DEFAULT 30 CHECK (retention_days BETWEEN 1 AND 3650),
  -- events mode: seconds kept from the rolling in-memory buffer before an event, and recorded after it
  pre_roll_s       integer NOT NULL DEFAULT 10 CHECK (pre_roll_s BETWEEN 0 AND 60),
  post_roll_s      integer NOT NULL DEFAULT 30 CHECK (post_roll_s BETWEEN 0 AND 3600),
  -- which events start a recording in events mode
  event_sources    text[] NOT NULL DEFAULT '{candidate,alarm,incident}',
  -- 110 incidents within this many metres of the camera count as "near"
  incident_radius_m integer NOT NULL DEFAULT 300 CHECK (incident_radius_m BETWEEN 0 AND 10000),
  -- schedule mode: [{"days":[1..7 (Mon=1)], "from":"HH:MM", "to":"HH:MM"}] in the server's time zone
  schedule         jsonb NOT NULL DEFAULT '[]'::jsonb,
  updated_by       uuid REFERENCES users(id) ON DELETE SET NULL,
  updated_at       timestamptz NOT NULL DEFAULT now()
);

-- One row per file on a node's disk (fMP4: init segment, then moof+mdat fragments). No foreign key to cameras: the
-- files of a deleted camera stay indexed until retention removes them.
CREATE TABLE recording_segments (
  id          bigserial PRIMARY KEY,
  camera_id   uuid NOT NULL,
  stream      text NOT NULL CHECK (stream IN ('main', 'sub')),
  node_id     text NOT NULL,
  -- path relative to the node's RECORDINGS_DIR
  file        text NOT NULL UNIQUE,
  start_at    timestamptz NOT NULL,
  end_at      timestamptz NOT NULL,
  bytes       bigint NOT NULL DEFAULT 0,
  -- open: being written (its node knows the newest GOPs); complete: closed and fsynced
  status      text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'complete')),
  init_bytes  integer NOT NULL,
  -- one entry per GOP: [byte offset, ms from start_at, duration ms, bytes of the first fragment (keyframe)]
  gops        jsonb NOT NULL DEFAULT '[]'::jsonb,
  codec       text,
  width       integer,
  height      integer,
  created_at  timestamptz NOT NULL DEFAULT now(),
  CHECK (end_at >= start_at)
);
CREATE INDEX recording_segments_camera_idx ON recording_segments (camera_id, start_at);
CREATE INDEX recording_segments_node_idx ON recording_segments (node_id, start_at);
CREATE INDEX recording_segments_start_idx ON recording_segments (start_at);

-- Video attached to a case or a 110 incident explicitly (beyond the automatic window around their time):
-- retention keeps it until the case closes plus RECORDING_CASE_RETENTION_DAYS.
CREATE TABLE recording_locks (
  id           bigserial PRIMARY KEY,
  camera_id    uuid NOT NULL,
  from_at      timestamptz NOT NULL,
  to_at        timestamptz NOT NULL,
  case_id      uuid REFERENCES cases(id) ON DELETE CASCADE,
  incident_id  uuid REFERENCES incidents_110(id) ON DELETE CASCADE,
  created_by   uuid REFERENCES users(id) ON DELETE SET NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  CHECK (to_at > from_at),
  CHECK (case_id IS NOT NULL OR incident_id IS NOT NULL)
);
CREATE INDEX recording_locks_camera_idx ON recording_locks (camera_id, from_at);

-- Where each recording store is reached. node_id above is the store's stable name (RECORDINGS_NODE_ID, default the
-- host name), not the per-process cluster node id: files outlive restarts. A store whose heartbeat is old is
-- unavailable (its spans stay indexed, shown as unavailable) until it comes back.
CREATE TABLE recording_nodes (
  id           text PRIMARY KEY,
  address      text,
  dir          text,
  used_bytes   bigint NOT NULL DEFAULT 0,
  max_bytes    bigint,
  failing      text,
  heartbeat_at timestamptz NOT NULL DEFAULT now()
);

-- Playback and export are audited like live views: who played which camera and which time range.
ALTER TABLE camera_view_log DROP CONSTRAINT camera_view_log_kind_check;
ALTER TABLE camera_view_log ADD CONSTRAINT camera_view_log_kind_check
  CHECK (kind IN ('live', 'snapshot', 'evidence', 'playback', 'export'));
ALTER TABLE camera_view_log ADD COLUMN range_from timestamptz;
ALTER TABLE camera_view_log ADD COLUMN range_to timestamptz;
