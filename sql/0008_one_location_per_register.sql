-- A register that signs its own records (its location declares a signing key) is one till, so it
-- has exactly one location: two would journal every event twice and split its archives. The host
-- checks this first to return a clear message; the index closes the race between two
-- concurrent creations.
CREATE UNIQUE INDEX locations_one_per_register ON locations (plugin_name, chain_key)
  WHERE profile ? 'signing_key';
