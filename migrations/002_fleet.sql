-- Fleet health: per-camera status history (written by the health recorder from ingest's camera.state and
-- by the periodic health checker), and the latest health probe of each camera (reachability, clock drift).
-- Runs on PostgreSQL 15+ and PGlite (PostgreSQL 18): only PG 15 features.

CREATE TABLE camera_status_history (
  id        bigserial PRIMARY KEY,
  camera_id uuid NOT NULL REFERENCES cameras(id) ON DELETE CASCADE,
  -- main / sub: an ingest session of that stream; probe: the health checker or an on-demand probe
  stream    text NOT NULL CHECK (stream IN ('main', 'sub', 'probe')),
  status    text NOT NULL CHECK (char_length(status) BETWEEN 1 AND 32),
  reason    text,
  at        timestamptz NOT NULL DEFAULT now()
);
-- per-camera timeline (status-history API) and the flapping window scan
CREATE INDEX camera_status_history_camera_at_idx ON camera_status_history (camera_id, at DESC, id DESC);
-- retention pruning and fleet-wide windows
CREATE INDEX camera_status_history_at_idx ON camera_status_history (at);

-- The latest health probe per camera: ONVIF GetSystemDateAndTime (reachability + clock drift) or, for cameras
-- without ONVIF, an RTSP OPTIONS round trip.
CREATE TABLE camera_health (
  camera_id      uuid PRIMARY KEY REFERENCES cameras(id) ON DELETE CASCADE,
  checked_at     timestamptz NOT NULL,
  method         text NOT NULL CHECK (method IN ('onvif', 'rtsp', 'none')),
  reachable      boolean NOT NULL,
  error          text,
  -- device clock minus server clock, ms (ONVIF only; devices report whole seconds)
  clock_drift_ms integer,
  rtt_ms         integer,
  -- manufacturer, model, firmware, serial, hardwareId, profiles, hasPtz from the last full probe
  device         jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX camera_health_checked_idx ON camera_health (checked_at);
