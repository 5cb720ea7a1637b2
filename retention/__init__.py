"""Retention: the archive's life cycle after a matter closes.

Sealing (ARC-1, ARC-2), retention schedules (RET), legal holds, disposition (review, approval,
crypto-shredding or BagIt transfer, signed certificates), inventory (ARC-6) and statistics (STA).
May use `records` (catalogue, vault, access) and `search` (to drop index entries); never `web`.
"""
