-- A session is good on the host it was made on only (its cookie is host-only; an app that
-- reads it must not be able to replay it to another host).
ALTER TABLE sessions ADD COLUMN host TEXT NOT NULL DEFAULT '';
