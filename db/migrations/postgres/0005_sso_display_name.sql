-- The name the login page shows on its button ("Sign in with Acme SSO"); NULL: the issuer's
-- host.
ALTER TABLE sso_configs ADD COLUMN display_name TEXT;
