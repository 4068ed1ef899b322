-- acctsec.notify_channel (SPEC section 12): the setting.  Delivery to a
-- listener is checked with a real client in test/clients/check_notify.sh.
\set VERBOSITY terse
SELECT acctsec.password_needs_rehash('');   -- loads the library
SELECT name, setting, context FROM pg_settings WHERE name = 'acctsec.notify_channel';
SET acctsec.notify_channel = 'acctsec_events';
SHOW acctsec.notify_channel;
-- an event in a transaction that rolls back notifies nobody (nothing to see
-- here but that it works without a listener)
BEGIN;
SELECT (acctsec.login_attempt('regress_notify', false, '192.0.2.1')).status;
ROLLBACK;
RESET acctsec.notify_channel;
CREATE ROLE regress_notify_user;
SELECT regress.error_of(s) AS outcome, s AS statement FROM unnest(ARRAY[
  $$SET acctsec.notify_channel = '$$ || repeat('c', 64) || $$'$$,
  -- the checkpoints' channel is checked the same way
  $$SET acctsec.audit_checkpoint_channel = '$$ || repeat('c', 64) || $$'$$,
  $$SET acctsec.audit_checkpoint_channel = '$$ || repeat('c', 63) || $$'$$,
  $$SET ROLE regress_notify_user; SET acctsec.notify_channel = 'mine'$$
]) AS s;
RESET ROLE;
RESET acctsec.audit_checkpoint_channel;
DROP ROLE regress_notify_user;
