"""Who may do what: the values the access policy produces for the other packages.

Only :class:`AccessScope` exists so far; the policy that builds it (roles, departments,
regulator grants) belongs to the access-control work.
"""

from __future__ import annotations

from records.access.model import AccessScope

__all__ = ["AccessScope"]
