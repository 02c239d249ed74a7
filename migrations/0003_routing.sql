-- Routing: what happens outside the creator's hours, which canonical answer a decision
-- served, and when an escalation offered outside the hours can expect a reply.
ALTER TABLE agent_config ADD COLUMN outside_hours TEXT NOT NULL DEFAULT 'queue'
    CHECK (outside_hours IN ('queue', 'refuse'));
ALTER TABLE decisions ADD COLUMN canonical_answer_id INTEGER REFERENCES canonical_answers(id) ON DELETE SET NULL;
ALTER TABLE escalations ADD COLUMN expected_reply_after TEXT;
CREATE INDEX decisions_by_fan ON decisions(fan_id, id);
CREATE INDEX escalations_by_fan ON escalations(agent_id, fan_id);
CREATE INDEX messages_by_time ON messages(created_at);
