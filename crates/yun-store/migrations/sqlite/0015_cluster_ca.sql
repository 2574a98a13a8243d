-- The digest of the CA the fleet trusts, recorded at the first start that has one: a master
-- started on this store (a restored backup, a second master) with another CA, or with none,
-- is refused instead of making a CA no worker trusts.
ALTER TABLE cluster ADD COLUMN ca_digest TEXT;
