-- Keeper model versions. Each row is one trained model saved under the library's models/ folder
-- (path is relative to it): plain arrays (model.npz) plus its description (model.json).
-- kind: linear | mlp | centroid. backbone_id and feature_schema name the inputs it was trained on;
-- scoring refuses a model whose inputs do not match the library's current embeddings/features.
-- metrics: the evaluation table (JSON); training: the training-set summary (JSON).
-- At most one row is active; activation switches it in one transaction.
CREATE TABLE model_versions (
    id             INTEGER PRIMARY KEY,
    created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    kind           TEXT NOT NULL CHECK (kind IN ('linear', 'mlp', 'centroid')),
    backbone_id    TEXT NOT NULL,
    feature_schema TEXT NOT NULL,
    path           TEXT NOT NULL UNIQUE,
    metrics        TEXT NOT NULL DEFAULT '{}',
    training       TEXT NOT NULL DEFAULT '{}',
    active         INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1)),
    activated_at   TEXT
);
CREATE UNIQUE INDEX model_versions_one_active ON model_versions(active) WHERE active = 1;
