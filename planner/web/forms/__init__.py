"""WTForms classes, one module a group of pages (login, needs, bodies, administration, documents, planning)."""
