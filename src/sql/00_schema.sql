-- acctsec install script, assembled from src/sql/NN_*.sql by the Makefile

\echo Use "CREATE EXTENSION acctsec" to load this file. \quit

-- The schema is created by CREATE EXTENSION (schema = acctsec in the control
-- file).  Deny by default: nothing in it is usable by PUBLIC unless granted
-- below, capability by capability.
REVOKE ALL ON SCHEMA acctsec FROM PUBLIC;
GRANT USAGE ON SCHEMA acctsec TO PUBLIC;
