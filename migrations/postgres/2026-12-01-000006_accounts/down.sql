DROP TABLE login_throttle;
DROP TABLE sessions;
ALTER TABLE api_tokens DROP COLUMN revoked_at;
ALTER TABLE users DROP COLUMN password_changed_at;
ALTER TABLE users DROP COLUMN must_change_password;
