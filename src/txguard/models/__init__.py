"""Machine-learned models: the supervised fraud model and the unsupervised anomaly model."""
