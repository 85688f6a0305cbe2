-- Production topology: nodes and camera leases. Several processes on several machines share one
-- PostgreSQL; ingest and analytics nodes claim cameras through these rows.

CREATE TABLE cluster_nodes (
  id           text PRIMARY KEY,
  role         text NOT NULL CHECK (role IN ('all', 'api', 'ingest', 'analytics')),
  -- Base URL other nodes use to reach this one (redirects/proxying of live requests).
  address      text,
  capacity     integer NOT NULL DEFAULT 0 CHECK (capacity >= 0),
  version      text,
  started_at   timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now(),
  stopped_at   timestamptz
);

-- One row per camera and kind of work. epoch is the fencing token: it grows with every takeover, so
-- a node that lost a lease can tell its claim is stale.
CREATE SEQUENCE camera_lease_epoch;
CREATE TABLE camera_leases (
  camera_id   uuid NOT NULL REFERENCES cameras(id) ON DELETE CASCADE,
  kind        text NOT NULL CHECK (kind IN ('ingest', 'analytics')),
  node_id     text NOT NULL,
  epoch       bigint NOT NULL,
  acquired_at timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  PRIMARY KEY (camera_id, kind)
);
CREATE INDEX camera_leases_node_idx ON camera_leases (node_id, kind);
CREATE INDEX camera_leases_expiry_idx ON camera_leases (kind, expires_at);
