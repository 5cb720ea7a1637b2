"""The archive's core: dossiers, documents, numbering, deadlines, the catalogue and the vault.

Everything else (ingest, search, retention, web) builds on this package. It imports none of them,
and nothing in it reads ``os.environ`` except :mod:`records.settings`.
"""
