-- Images are pinned by content: a catalog entry or a private image records the engine's image
-- id it was published or pulled as, and a container records the id it was created from, so a
-- later pull that moves a tag (a renter pulling the same name with other content) never
-- changes what another container runs. Rows from before keep '' and run by reference.
ALTER TABLE images ADD COLUMN docker_id TEXT NOT NULL DEFAULT '';
ALTER TABLE containers ADD COLUMN image_pin TEXT NOT NULL DEFAULT '';
