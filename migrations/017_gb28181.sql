-- GB/T 28181 access (server/gb28181/): devices and lower platforms that register to StreetEye over SIP, and the
-- channels their catalogs offer. A channel enters the inventory (cameras) only when a technician approves it;
-- gb_channels.camera_id links it then. Passwords are sealed like camera credentials (AES-256-GCM, never returned).
CREATE TABLE gb_devices (
  device_id         text PRIMARY KEY CHECK (device_id ~ '^[0-9]{20}$'),
  name              text CHECK (char_length(name) <= 100),
  -- NULL: the platform-wide password (GB28181_PASSWORD)
  password_enc      text,
  enabled           boolean NOT NULL DEFAULT true,
  transport         text CHECK (transport IN ('udp', 'tcp')),
  address           text,
  port              integer,
  edition           text CHECK (edition IN ('2016', '2022')),
  manufacturer      text,
  model             text,
  firmware          text,
  online            boolean NOT NULL DEFAULT false,
  status_reason     text,
  registered_at     timestamptz,
  expires_at        timestamptz,
  last_keepalive_at timestamptz,
  catalog_sum       integer,
  catalog_at        timestamptz,
  catalog_error     text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE gb_channels (
  device_id    text NOT NULL REFERENCES gb_devices(device_id) ON DELETE CASCADE,
  channel_id   text NOT NULL CHECK (channel_id ~ '^[0-9]{2,20}$'),
  kind         text NOT NULL CHECK (kind IN ('camera', 'device', 'platform', 'group', 'org', 'civil', 'alarm', 'other')),
  name         text,
  manufacturer text,
  model        text,
  owner        text,
  civil_code   text,
  address      text,
  parent_id    text,
  parental     boolean NOT NULL DEFAULT false,
  -- ON / OFF / VLOST / DEFECT as the device last said
  status       text,
  lng          double precision CHECK (lng BETWEEN -180 AND 180),
  lat          double precision CHECK (lat BETWEEN -90 AND 90),
  ptz_type     smallint,
  -- the channel left the catalog (DEL event, or absent from a full catalog); an approved camera keeps its row
  removed      boolean NOT NULL DEFAULT false,
  camera_id    uuid REFERENCES cameras(id) ON DELETE SET NULL,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (device_id, channel_id)
);
CREATE UNIQUE INDEX gb_channels_camera_idx ON gb_channels (camera_id) WHERE camera_id IS NOT NULL;
CREATE INDEX gb_channels_parent_idx ON gb_channels (device_id, parent_id);
