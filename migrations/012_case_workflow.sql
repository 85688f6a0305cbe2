-- Case workflow completed for the console (issue 14): departments as data, the side paths of the lifecycle
-- (延期 extension with approval, 回退 send back, 挂账 park), the city platform's status updates (idempotent) and
-- the per-case view of hand-offs.

-- Departments (处置部门) a case is dispatched to: a table an admin edits, not free text.
CREATE TABLE departments (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name        text NOT NULL UNIQUE CHECK (char_length(name) BETWEEN 1 AND 100),
  contact     text,
  phone       text,
  enabled     boolean NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- 挂账 parked: a case that cannot be solved now; it keeps its place (parked_from) to resume from.
ALTER TABLE cases DROP CONSTRAINT IF EXISTS cases_status_check;
ALTER TABLE cases ADD CONSTRAINT cases_status_check
  CHECK (status IN ('filed', 'dispatched', 'handled', 'verified', 'closed', 'void', 'parked'));
ALTER TABLE cases
  ADD COLUMN parked_from text,
  ADD COLUMN parked_at timestamptz,
  -- 延期 extension: requested (hours of working time, reason, who, when), then approved or refused by an admin.
  ADD COLUMN extension_hours numeric(8, 2) CHECK (extension_hours > 0),
  ADD COLUMN extension_reason text,
  ADD COLUMN extension_requested_by text,
  ADD COLUMN extension_requested_at timestamptz,
  ADD COLUMN extension_count integer NOT NULL DEFAULT 0;
CREATE INDEX cases_due_idx ON cases (due_at) WHERE status NOT IN ('closed', 'void');

-- Status updates from the city platform: the update id is the idempotency key (a replay changes nothing).
CREATE TABLE city_updates (
  update_id   text PRIMARY KEY CHECK (char_length(update_id) BETWEEN 1 AND 100),
  api_key_id  uuid REFERENCES api_keys(id) ON DELETE SET NULL,
  case_id     uuid REFERENCES cases(id) ON DELETE CASCADE,
  action      text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  result      jsonb NOT NULL DEFAULT '{}'::jsonb
);

-- The case page lists the hand-offs of its case: city rows carry the case number in their payload.
CREATE INDEX outbox_case_no_idx ON outbox ((payload->>'caseNo'));
CREATE INDEX audit_log_user_idx ON audit_log (username, at DESC);
CREATE INDEX audit_log_action_idx ON audit_log (action, at DESC);
