-- Pinned messages (C2): a member pins a message so the talk keeps it at hand.
ALTER TABLE messages ADD COLUMN pinned_at BIGINT;
ALTER TABLE messages ADD COLUMN pinned_by TEXT;
