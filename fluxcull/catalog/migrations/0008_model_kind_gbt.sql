-- Keeper model versions may be gradient-boosted trees ('gbt'). SQLite cannot change a CHECK
-- constraint in place: the table is rebuilt with the same columns, rows and index.
CREATE TABLE model_versions_new (
    id             INTEGER PRIMARY KEY,
    created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    kind           TEXT NOT NULL CHECK (kind IN ('linear', 'mlp', 'centroid', 'gbt')),
    backbone_id    TEXT NOT NULL,
    feature_schema TEXT NOT NULL,
    path           TEXT NOT NULL UNIQUE,
    metrics        TEXT NOT NULL DEFAULT '{}',
    training       TEXT NOT NULL DEFAULT '{}',
    active         INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1)),
    activated_at   TEXT
);
INSERT INTO model_versions_new (id, created_at, kind, backbone_id, feature_schema, path, metrics, training, active,
                                activated_at)
    SELECT id, created_at, kind, backbone_id, feature_schema, path, metrics, training, active, activated_at
    FROM model_versions;
DROP TABLE model_versions;
ALTER TABLE model_versions_new RENAME TO model_versions;
CREATE UNIQUE INDEX model_versions_one_active ON model_versions(active) WHERE active = 1;
