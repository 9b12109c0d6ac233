"""Host-cluster syncer (virtual mode). Not built yet: see README's feature table."""
