-- acctsec install script, assembled from src/sql/NN_*.sql by the Makefile

\echo Use "CREATE EXTENSION acctsec" to load this file. \quit

-- The schema is created by CREATE EXTENSION (schema = acctsec in the control
-- file).  Deny by default: PUBLIC may look the schema up, and holds nothing
-- in it but what 90_grants.sql names.
REVOKE ALL ON SCHEMA acctsec FROM PUBLIC;
GRANT USAGE ON SCHEMA acctsec TO PUBLIC;
