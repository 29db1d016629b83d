"""Services: the bridge between the database rows and the pure domain (instances, imports, demo, users)."""
