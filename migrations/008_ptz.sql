-- PTZ control (server/ptz/): one operator steers a camera at a time. The row is the control lock: its holder's
-- commands go through until it expires (renewed by every command); a user of higher priority (the police on their
-- own cameras) may take it over. Kept in the database so every API node sees the same lock.
CREATE TABLE ptz_locks (
  camera_id   uuid PRIMARY KEY REFERENCES cameras(id) ON DELETE CASCADE,
  user_id     uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  username    text NOT NULL,
  role        text NOT NULL,
  priority    integer NOT NULL,
  acquired_at timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL
);
