-- Whether a municipality takes synthetic identity numbers (issue 14, item 13).
--
-- Skatteetaten's test population (Tenor) has synthetic numbers (80 added to the
-- month): they belong to no real person, and a production municipality whose HR
-- file carries one has a broken export or test data in it. Every import into a
-- municipality refuses them unless this flag says it is a test or demo municipality;
-- `tavle demo` sets it for the municipalities it creates. Off by default, so every
-- existing and every new municipality is a production one until someone says not.

ALTER TABLE tenants ADD COLUMN allows_synthetic_ids boolean NOT NULL DEFAULT false;

COMMENT ON COLUMN tenants.allows_synthetic_ids IS
    'A test or demo municipality: imports accept synthetic (test population) identity numbers';
