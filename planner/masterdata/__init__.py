"""National master data: body codes and the list of all 1,788 bodies (read offline from the japancode package)."""
