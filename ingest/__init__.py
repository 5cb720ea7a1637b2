"""Intake: detect → hash → dedupe → extract/OCR → classify → file, one recorded outcome per file.

Ingest turns whatever a complaint produced (scans, faxes, emails, Word minutes, text in any
legacy encoding) into documents of a dossier through ``records``; it never decides access and
never writes document plaintext to disk. Parsers run in worker processes with time and memory
limits (``ingest.workers``) so a hostile file cannot hang or kill a batch.
"""
