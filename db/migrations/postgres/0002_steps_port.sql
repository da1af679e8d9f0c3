-- A step's output port (gate pass/fail, condition true/false, route bands), so a resumed
-- execution continues down the branch the node chose.
ALTER TABLE steps ADD COLUMN port TEXT;
