-- Cases as a shared service, the durable outbox's destinations, the 110 desk (API keys, incidents,
-- category mapping, history), and the camera access log (who watched which camera when).
-- Runs on PostgreSQL 15+ and PGlite (PostgreSQL 18): only PG 15 features.

-- Cases: unique numbers from a sequence (SE<yyyymmdd>-<nnnnnn>, see server/cases/case-number.ts), the district
-- for assessment, the handling result, and how often a case went back for rework (返工).
CREATE SEQUENCE case_no_seq;
ALTER TABLE cases ADD COLUMN district text;
ALTER TABLE cases ADD COLUMN reported_at timestamptz;
ALTER TABLE cases ADD COLUMN handle_result text;
ALTER TABLE cases ADD COLUMN rework_count integer NOT NULL DEFAULT 0 CHECK (rework_count >= 0);
CREATE INDEX cases_filed_at_idx ON cases (filed_at);

-- Keys for machine-to-machine callers (the 110 system). Only a SHA-256 of the key is kept; the key is
-- shown once. The callback secret signs status feedback and must be readable: AES-256-GCM sealed.
CREATE TABLE api_keys (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name                text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
  key_prefix          text NOT NULL,
  key_hash            text NOT NULL UNIQUE,
  scopes              text[] NOT NULL CHECK (cardinality(scopes) >= 1),
  callback_url        text CHECK (callback_url ~ '^https?://'),
  callback_secret_enc text,
  created_by          uuid REFERENCES users(id) ON DELETE SET NULL,
  created_at          timestamptz NOT NULL DEFAULT now(),
  last_used_at        timestamptz,
  revoked_at          timestamptz,
  revoked_by          uuid REFERENCES users(id) ON DELETE SET NULL
);

-- Outbox destinations: the city platform (CITY_WEBHOOK_URL) or the callback URL of an API key (110 feedback).
-- URL and secret are resolved at delivery time, so a corrected URL also reaches rows already queued.
ALTER TABLE outbox ADD COLUMN destination text NOT NULL DEFAULT 'city' CHECK (destination IN ('city', 'api_key'));
ALTER TABLE outbox ADD COLUMN api_key_id uuid REFERENCES api_keys(id) ON DELETE SET NULL;
ALTER TABLE outbox ADD COLUMN last_status integer;
ALTER TABLE outbox ADD CONSTRAINT outbox_api_key_dest CHECK (destination <> 'api_key' OR api_key_id IS NOT NULL);

-- 110 incident category code → event type: local data a city edits (the codes below are examples).
CREATE TABLE category_map_110 (
  code        text PRIMARY KEY CHECK (code ~ '^[0-9A-Za-z_.-]{1,32}$'),
  name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
  event_type  text NOT NULL REFERENCES event_types(key) ON UPDATE CASCADE,
  enabled     boolean NOT NULL DEFAULT true,
  updated_by  uuid REFERENCES users(id) ON DELETE SET NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO category_map_110 (code, name, event_type) VALUES
  ('0601', '暴露垃圾', 'exposed_garbage'),
  ('0602', '垃圾满溢', 'bin_overflow'),
  ('0603', '焚烧垃圾', 'burning_refuse'),
  ('0604', '露天烧烤', 'open_air_bbq'),
  ('0605', '乱堆物堆料', 'piled_materials'),
  ('0801', '施工占道', 'construction_on_road'),
  ('0901', '占道经营', 'road_occupying_stall'),
  ('0902', '无照经营游商', 'unlicensed_hawker'),
  ('0903', '机动车乱停放', 'illegal_motor_parking'),
  ('0904', '占用消防通道', 'fire_lane_blocked');

-- Incidents handed over by 110 (非警务警情). ticket_no (接警单编号) is the idempotency key.
CREATE TABLE incidents_110 (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  ticket_no         text NOT NULL UNIQUE CHECK (char_length(ticket_no) BETWEEN 1 AND 64),
  api_key_id        uuid REFERENCES api_keys(id) ON DELETE SET NULL,
  submitted_by      uuid REFERENCES users(id) ON DELETE SET NULL,
  reported_at       timestamptz NOT NULL,
  received_at       timestamptz NOT NULL DEFAULT now(),
  -- Personal data: masked in lists, full only to police110/admin, never logged.
  caller_phone      text,
  caller_name       text,
  address           text NOT NULL,
  lat               double precision CHECK (lat BETWEEN -90 AND 90),
  lng               double precision CHECK (lng BETWEEN -180 AND 180),
  report_text       text NOT NULL,
  category_code     text NOT NULL,
  category_name     text,
  event_type        text NOT NULL REFERENCES event_types(key) ON UPDATE CASCADE,
  jurisdiction_unit text,
  admin_code        text,
  confidential      boolean NOT NULL DEFAULT false,
  camera_id         uuid REFERENCES cameras(id) ON DELETE SET NULL,
  status            text NOT NULL DEFAULT 'received'
                    CHECK (status IN ('received', 'accepted', 'dispatched', 'handled', 'closed', 'returned')),
  status_at         timestamptz NOT NULL DEFAULT now(),
  case_id           uuid REFERENCES cases(id) ON DELETE SET NULL,
  return_reason     text,
  handle_result     text,
  handled_unit      text,
  satisfaction      smallint CHECK (satisfaction IN (1, 2, 3)),
  satisfaction_note text,
  satisfaction_at   timestamptz,
  updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX incidents_110_received_idx ON incidents_110 (received_at DESC);
CREATE INDEX incidents_110_status_idx ON incidents_110 (status);
CREATE INDEX incidents_110_key_idx ON incidents_110 (api_key_id);
CREATE INDEX incidents_110_case_idx ON incidents_110 (case_id);

CREATE TABLE incident_history (
  id          bigserial PRIMARY KEY,
  incident_id uuid NOT NULL REFERENCES incidents_110(id) ON DELETE CASCADE,
  at          timestamptz NOT NULL DEFAULT now(),
  status      text NOT NULL,
  note        text,
  actor_id    uuid REFERENCES users(id) ON DELETE SET NULL,
  actor_name  text
);
CREATE INDEX incident_history_incident_idx ON incident_history (incident_id, at);

-- Who watched which camera when (live view, snapshot, evidence): police see it for their cameras.
CREATE TABLE camera_view_log (
  id          bigserial PRIMARY KEY,
  user_id     uuid REFERENCES users(id) ON DELETE SET NULL,
  username    text,
  camera_id   uuid NOT NULL REFERENCES cameras(id) ON DELETE CASCADE,
  kind        text NOT NULL CHECK (kind IN ('live', 'snapshot', 'evidence')),
  started_at  timestamptz NOT NULL,
  ended_at    timestamptz,
  ip          text,
  CHECK (ended_at IS NULL OR ended_at >= started_at)
);
CREATE INDEX camera_view_log_camera_idx ON camera_view_log (camera_id, started_at DESC);
CREATE INDEX camera_view_log_started_idx ON camera_view_log (started_at DESC);
