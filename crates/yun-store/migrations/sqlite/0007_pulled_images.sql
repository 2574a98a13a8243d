-- Whether yun fetched an image's content from a registry (a pull), or found it on the node
-- (an operator's hand-loaded image published as it is). Only pulled content is removed from
-- the nodes when the last record and container using it are gone.
ALTER TABLE images ADD COLUMN pulled INTEGER NOT NULL DEFAULT 0;
