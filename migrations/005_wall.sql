-- Video wall: saved wall presets, camera groups (also the camera lists of tours) and favourites.
-- Camera ids inside presets and groups are filtered through camera visibility on every read; a camera that
-- is deleted simply drops out of them (groups) or leaves its tile empty (presets).

CREATE TABLE camera_groups (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_id    uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  shared      boolean NOT NULL DEFAULT false,
  name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
  camera_ids  uuid[] NOT NULL DEFAULT '{}' CHECK (cardinality(camera_ids) <= 500),
  -- default dwell per step when the group runs as a tour (轮巡)
  tour_interval_s integer NOT NULL DEFAULT 15 CHECK (tour_interval_s BETWEEN 3 AND 3600),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (owner_id, name)
);
CREATE INDEX camera_groups_shared_idx ON camera_groups (shared) WHERE shared;

CREATE TABLE wall_presets (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_id    uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  shared      boolean NOT NULL DEFAULT false,
  name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
  layout      text NOT NULL CHECK (layout IN ('1', '4', '9', '16', '25', '36', '1+5', '1+7')),
  -- one entry per tile: a camera id (string) or null for an empty tile
  cameras     jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(cameras) = 'array'),
  -- the tour that runs on this wall: {"groupId": uuid, "intervalS": n} or null
  tour        jsonb CHECK (tour IS NULL OR jsonb_typeof(tour) = 'object'),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (owner_id, name)
);
CREATE INDEX wall_presets_shared_idx ON wall_presets (shared) WHERE shared;

CREATE TABLE favourites (
  user_id     uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  camera_id   uuid NOT NULL REFERENCES cameras(id) ON DELETE CASCADE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, camera_id)
);
