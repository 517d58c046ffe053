-- Roles for docker-compose.yml: the migrations grant to tavle_app; the application
-- logs in as tavle_web, a member of it that owns nothing.
CREATE ROLE tavle_app NOLOGIN;
CREATE ROLE tavle_web LOGIN PASSWORD 'web-password-for-local-trial' IN ROLE tavle_app;
