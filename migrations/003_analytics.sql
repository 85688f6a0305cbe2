-- Analytics and review: the event classification (data, editable by admins), analytics rules,
-- candidate events, cases with their history, and an outbox for hand-offs to other systems.
-- Runs on PostgreSQL 15+ and PGlite (PostgreSQL 18): only PG 15 features.

-- The classification in force. `key` is the stable identifier stored everywhere; codes per edition
-- are kept side by side and `code` is the one in force (copied onto every event and case when raised).
CREATE TABLE event_types (
  key                 text PRIMARY KEY CHECK (key ~ '^[a-z][a-z0-9_]{1,63}$'),
  name_zh             text NOT NULL,
  name_en             text NOT NULL,
  code                text NOT NULL,
  edition_in_force    text NOT NULL,
  code_cjt214_2007    text,
  code_gbt30428_2013  text,
  code_gbt47678_2026  text,
  video_detectable    text NOT NULL CHECK (video_detectable IN ('yes', 'partly', 'no')),
  typical_evidence    text,
  -- Default time limit for handling; cities override it (working hours are their own calendar).
  time_limit_hours    numeric(8, 2) CHECK (time_limit_hours > 0),
  enabled             boolean NOT NULL DEFAULT true,
  updated_by          uuid REFERENCES users(id) ON DELETE SET NULL,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now()
);

-- Seed: every row of standards/event-types.csv. The code in force is the GB/T 47678.5-2026 one (in force
-- since 2026-07-01) where known, else the newest edition that has one. Time limits are placeholders a city edits.
INSERT INTO event_types (key, name_zh, name_en, code, edition_in_force, code_cjt214_2007, code_gbt30428_2013,
                         code_gbt47678_2026, video_detectable, typical_evidence, time_limit_hours) VALUES
  ('exposed_garbage', '暴露垃圾', 'exposed garbage', '06010', 'GB/T 47678.5-2026', '01-02', '01-10', '06010', 'yes', 'garbage heap/bags on ground outside bins', 4),
  ('accumulated_muck', '积存垃圾渣土', 'accumulated garbage or muck', '06011', 'GB/T 47678.5-2026', '01-03', '01-11', '06011', 'yes', 'large heap persisting', 48),
  ('dirty_road', '道路不洁', 'dirty road surface', '06012', 'GB/T 47678.5-2026', '01-04', '01-12', '06012', 'partly', 'litter spread on road', 4),
  ('burning_refuse', '焚烧垃圾树叶', 'burning refuse or leaves', '06020', 'GB/T 47678.5-2026', '01-15', NULL, '06020', 'yes', 'smoke/fire at ground level', 1),
  ('piled_materials', '乱堆物堆料', 'piled materials on public space', '06036', 'GB/T 47678.5-2026', '05-07', '01-36', '06036', 'yes', 'materials in zone for long dwell', 24),
  ('bin_overflow', '垃圾满溢', 'litter bin or station overflowing', '06042', 'GB/T 47678.5-2026', NULL, '01-98 (local extension)', '06042', 'yes', 'bin with garbage above/around it', 4),
  ('street_laundry', '沿街晾挂', 'laundry hung along the street', '06007', 'GB/T 47678.5-2026', '05-11', '01-07', '06007', 'yes', 'clothes on lines/railings', 24),
  ('open_air_bbq', '露天烧烤', 'open-air barbecue', '06029', 'GB/T 47678.5-2026', '05-10', NULL, '06029', 'yes', 'grill + smoke + people', 24),
  ('illegal_small_ads', '非法小广告', 'illegal small ads/posters', '07001', 'GB/T 47678.5-2026', '02-01', '02-01', '07001', 'partly', 'posters on poles/walls', 24),
  ('roadside_ad_board', '占道广告牌', 'ad board occupying the road', '07003', 'GB/T 47678.5-2026', '02-03', '02-03', '07003', 'yes', 'board standing on sidewalk', 24),
  ('leafleting', '街头散发广告', 'handing out leaflets', '07002', 'GB/T 47678.5-2026', '02-04', NULL, '07002', 'partly', NULL, 24),
  ('construction_on_road', '施工占道', 'construction occupying the road', '08002', 'GB/T 47678.5-2026', '03-04', NULL, '08002', 'yes', 'barriers/materials in road zone', 24),
  ('muck_truck_uncovered', '渣土车未密闭', 'muck truck not covered', '08011', 'GB/T 47678.5-2026', '03-12 (local)', '03-11', '08011', 'yes', 'truck class + open load', 24),
  ('road_ponding', '道路积水', 'water ponding on road', '04-06', 'CJ/T 214-2007', '04-06', NULL, NULL, 'yes', 'water surface in road zone', 24),
  ('unlicensed_hawker', '无照经营游商', 'unlicensed mobile hawker', '09001', 'GB/T 47678.5-2026', '05-01', '04-01', '09001', 'yes', 'person + cart/stall moving or short dwell', 2),
  ('scrap_buying', '占道废品收购', 'roadside scrap buying', '09004', 'GB/T 47678.5-2026', '05-03', NULL, '09004', 'partly', NULL, 2),
  ('outside_shop_trading', '店外经营', 'trading outside the shop front', '09005', 'GB/T 47678.5-2026', '05-04', '04-05', '09005', 'yes', 'goods/tables in front-of-shop zone', 2),
  ('road_occupying_stall', '占道经营', 'stall occupying the road or sidewalk', '09006', 'GB/T 47678.5-2026', NULL, '04-06', '09006', 'yes', 'stall/umbrella/table + person in sidewalk zone for long dwell', 2),
  ('illegal_motor_parking', '机动车乱停放', 'motor vehicle parked illegally (e.g. on sidewalk)', '09009', 'GB/T 47678.5-2026', '05-05', '04-09', '09009', 'yes', 'car/truck/bus stationary in no-parking zone', 2),
  ('illegal_bike_parking', '非机动车乱停放', 'bicycles/e-bikes parked illegally', '09010', 'GB/T 47678.5-2026', '05-06', '04-10', '09010', 'yes', 'bicycle/motorcycle cluster in zone', 2),
  ('shared_bike_disorder', '共享单车乱象', 'shared-bike disorder', '09011', 'GB/T 47678.5-2026', NULL, NULL, '09011', 'yes', 'many bicycles in zone', 2),
  ('fire_lane_blocked', '占用消防通道', 'fire lane blocked', '09012', 'GB/T 47678.5-2026', NULL, NULL, '09012', 'yes', 'vehicle stationary in fire-lane zone', 2);

CREATE TABLE rules (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  camera_id         uuid NOT NULL REFERENCES cameras(id) ON DELETE CASCADE,
  event_type        text NOT NULL REFERENCES event_types(key) ON UPDATE CASCADE,
  name              text CHECK (char_length(name) <= 200),
  -- Polygon [[x, y], ...] normalised 0..1 to the frame; validated by analytics/zones.ts before it gets here.
  zone              jsonb NOT NULL CHECK (jsonb_typeof(zone) = 'array' AND jsonb_array_length(zone) >= 3),
  detector          text NOT NULL DEFAULT 'model' CHECK (detector IN ('model', 'foreground')),
  model             text,
  classes           text[] NOT NULL DEFAULT '{}',
  min_score         real NOT NULL DEFAULT 0.4 CHECK (min_score BETWEEN 0 AND 1),
  min_area          real NOT NULL DEFAULT 0 CHECK (min_area BETWEEN 0 AND 1),
  min_count         integer NOT NULL DEFAULT 1 CHECK (min_count >= 1),
  min_dwell_seconds real NOT NULL DEFAULT 60 CHECK (min_dwell_seconds >= 0),
  -- {days: [1..7], from: 'HH:MM', to: 'HH:MM'} in the configured time zone; NULL = always.
  schedule          jsonb CHECK (schedule IS NULL OR jsonb_typeof(schedule) = 'object'),
  cooldown_seconds  real NOT NULL DEFAULT 600 CHECK (cooldown_seconds >= 0),
  enabled           boolean NOT NULL DEFAULT true,
  created_by        uuid REFERENCES users(id) ON DELETE SET NULL,
  updated_by        uuid REFERENCES users(id) ON DELETE SET NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  CHECK (detector = 'foreground' OR cardinality(classes) >= 1)
);
CREATE INDEX rules_camera_idx ON rules (camera_id);
CREATE INDEX rules_event_type_idx ON rules (event_type);

CREATE TABLE cases (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  case_no        text NOT NULL UNIQUE,
  source         text NOT NULL CHECK (source IN ('ai', '110', 'manual')),
  -- 110 dispatch ticket number: the idempotency key of 110 intake.
  source_ref     text,
  event_type     text NOT NULL REFERENCES event_types(key) ON UPDATE CASCADE,
  event_code     text NOT NULL,
  grid_code      text CHECK (grid_code ~ '^([0-9]{14}|[0-9A-Z]{15})$'),
  lat            double precision CHECK (lat BETWEEN -90 AND 90),
  lng            double precision CHECK (lng BETWEEN -180 AND 180),
  address        text,
  camera_id      uuid REFERENCES cameras(id) ON DELETE SET NULL,
  description    text,
  evidence       jsonb NOT NULL DEFAULT '[]'::jsonb,
  status         text NOT NULL DEFAULT 'filed'
                 CHECK (status IN ('filed', 'dispatched', 'handled', 'verified', 'closed', 'void')),
  due_at         timestamptz,
  filed_at       timestamptz NOT NULL DEFAULT now(),
  filed_by       uuid REFERENCES users(id) ON DELETE SET NULL,
  dispatched_at  timestamptz,
  dispatched_by  uuid REFERENCES users(id) ON DELETE SET NULL,
  dispatched_to  text,
  handled_at     timestamptz,
  handled_by     uuid REFERENCES users(id) ON DELETE SET NULL,
  verified_at    timestamptz,
  verified_by    uuid REFERENCES users(id) ON DELETE SET NULL,
  closed_at      timestamptz,
  closed_by      uuid REFERENCES users(id) ON DELETE SET NULL,
  voided_at      timestamptz,
  voided_by      uuid REFERENCES users(id) ON DELETE SET NULL,
  void_reason    text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX cases_source_ref_uq ON cases (source, source_ref) WHERE source_ref IS NOT NULL;
CREATE INDEX cases_status_idx ON cases (status, filed_at DESC);
CREATE INDEX cases_grid_idx ON cases (grid_code);
CREATE INDEX cases_event_type_idx ON cases (event_type);

-- Candidate events raised by analytics: one per stay of an object (or group) in a rule's zone.
CREATE TABLE events (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  rule_id         uuid REFERENCES rules(id) ON DELETE SET NULL,
  camera_id       uuid NOT NULL REFERENCES cameras(id) ON DELETE CASCADE,
  event_type      text NOT NULL REFERENCES event_types(key) ON UPDATE CASCADE,
  -- Code of the classification in force when the event was raised (kept even if the table changes later).
  event_code      text NOT NULL,
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'confirmed', 'rejected', 'expired')),
  score           real NOT NULL CHECK (score BETWEEN 0 AND 1),
  label           text,
  object_count    integer NOT NULL DEFAULT 1 CHECK (object_count >= 1),
  -- Box normalised 0..1 to the frame: {x1, y1, x2, y2}.
  box             jsonb,
  first_seen      timestamptz NOT NULL,
  last_seen       timestamptz NOT NULL,
  closed_at       timestamptz,
  grid_code       text,
  lat             double precision CHECK (lat BETWEEN -90 AND 90),
  lng             double precision CHECK (lng BETWEEN -180 AND 180),
  address         text,
  -- Paths relative to the evidence directory.
  evidence_jpeg   text,
  evidence_frame  text,
  evidence_clip   text,
  -- {trackIds, detector, model, dwellSeconds, ...}
  track           jsonb NOT NULL DEFAULT '{}'::jsonb,
  reviewed_by     uuid REFERENCES users(id) ON DELETE SET NULL,
  reviewed_at     timestamptz,
  reject_reason   text,
  reject_note     text,
  case_id         uuid REFERENCES cases(id) ON DELETE SET NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  CHECK (last_seen >= first_seen),
  CHECK (status <> 'rejected' OR reject_reason IS NOT NULL),
  CHECK (status <> 'confirmed' OR case_id IS NOT NULL)
);
CREATE INDEX events_status_idx ON events (status, first_seen DESC);
CREATE INDEX events_camera_idx ON events (camera_id, first_seen DESC);
CREATE INDEX events_rule_idx ON events (rule_id, status);
CREATE INDEX events_case_idx ON events (case_id);

CREATE TABLE case_history (
  id          bigserial PRIMARY KEY,
  case_id     uuid NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
  at          timestamptz NOT NULL DEFAULT now(),
  actor_id    uuid REFERENCES users(id) ON DELETE SET NULL,
  actor_name  text,
  action      text NOT NULL,
  from_status text,
  to_status   text,
  note        text,
  detail      jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX case_history_case_idx ON case_history (case_id, at);

-- Transactional outbox: written in the same transaction as the change, delivered (city platform, 110
-- feedback) by a worker with retries.
CREATE TABLE outbox (
  id              bigserial PRIMARY KEY,
  topic           text NOT NULL,
  payload         jsonb NOT NULL,
  attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  delivered_at    timestamptz,
  last_error      text,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_pending_idx ON outbox (next_attempt_at) WHERE delivered_at IS NULL;
