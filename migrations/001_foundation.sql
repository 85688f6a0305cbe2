-- Foundation: accounts, sessions, audit trail, camera inventory.
-- Runs on PostgreSQL 15+ and PGlite (PostgreSQL 18): only PG 15 features.

CREATE TABLE users (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  username      text NOT NULL UNIQUE CHECK (username ~ '^[A-Za-z0-9_.@-]{2,64}$'),
  display_name  text,
  password_hash text NOT NULL,
  role          text NOT NULL CHECK (role IN ('admin', 'operator', 'reviewer', 'police110', 'technician')),
  disabled      boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);

-- The session token lives only in the cookie; the table keeps its SHA-256 so a database leak opens no session.
CREATE TABLE sessions (
  token_hash   text PRIMARY KEY,
  user_id      uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  revoked_at   timestamptz,
  ip           text,
  user_agent   text
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

CREATE TABLE audit_log (
  id          bigserial PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  user_id     uuid REFERENCES users(id) ON DELETE SET NULL,
  username    text,
  action      text NOT NULL,
  target_type text,
  target_id   text,
  detail      jsonb NOT NULL DEFAULT '{}'::jsonb,
  ip          text
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC);
CREATE INDEX audit_log_target_idx ON audit_log (target_type, target_id);

CREATE TABLE cameras (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  national_id       text UNIQUE CHECK (national_id ~ '^[0-9]{20}$'),
  name              text NOT NULL UNIQUE CHECK (char_length(name) BETWEEN 1 AND 100),
  owner             text,
  sharing           text NOT NULL DEFAULT 'shared' CHECK (sharing IN ('shared', 'restricted')),
  lat               double precision CHECK (lat BETWEEN -90 AND 90),
  lng               double precision CHECK (lng BETWEEN -180 AND 180),
  address           text,
  district          text,
  street            text,
  community         text,
  grid_code         text CHECK (grid_code ~ '^([0-9]{14}|[0-9A-Z]{15})$'),
  tags              text[] NOT NULL DEFAULT '{}',
  rtsp_main         text CHECK (rtsp_main ~ '^rtsps?://'),
  rtsp_sub          text CHECK (rtsp_sub ~ '^rtsps?://'),
  onvif_url         text CHECK (onvif_url ~ '^https?://'),
  -- AES-256-GCM sealed JSON {username, password}; never leaves the server.
  credentials_enc   text,
  -- Filled by ingest.
  status            text NOT NULL DEFAULT 'unknown',
  status_reason     text,
  status_changed_at timestamptz,
  last_seen_at      timestamptz,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  search_text       text GENERATED ALWAYS AS (
    lower(name || ' ' || coalesce(national_id, '') || ' ' || coalesce(address, '') || ' ' ||
          coalesce(owner, '') || ' ' || coalesce(district, '') || ' ' || coalesce(street, '') || ' ' ||
          coalesce(community, '') || ' ' || coalesce(grid_code, ''))
  ) STORED
);
CREATE INDEX cameras_district_idx ON cameras (district);
CREATE INDEX cameras_grid_idx ON cameras (grid_code);
CREATE INDEX cameras_owner_idx ON cameras (owner);
CREATE INDEX cameras_status_idx ON cameras (status);
CREATE INDEX cameras_tags_idx ON cameras USING gin (tags);
CREATE INDEX cameras_name_idx ON cameras (name);
