"""WTForms classes of the pages owned by the web base (login, needs, bodies, administration)."""
