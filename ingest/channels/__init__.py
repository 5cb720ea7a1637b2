"""Intake channels: where material arrives from before the pipeline files it.

A channel talks to one outside system (an IMAP mailbox, a watched folder) and hands what it
finds to ``IngestService`` one file at a time. A channel never decides access and never writes
document plaintext to disk. It marks an item done at its source only *after* the catalogue
commit returned, so a crash at any point loses nothing; on the next run the duplicate check
(SHA-256) makes the redelivered item file nothing twice.

Modules are imported by their users (``from ingest.channels.imap import MailIntake``), never
here, so importing the package pulls in no network code.
"""
