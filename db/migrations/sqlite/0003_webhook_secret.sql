-- The secret an execution's completion webhook is signed with (sealed like agent secrets).
ALTER TABLE executions ADD COLUMN webhook_secret_enc TEXT;
