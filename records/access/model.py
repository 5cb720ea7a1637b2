"""Access values shared by the policy and the things that must obey it (pure; stdlib only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class AccessScope:
    """What one caller may see, in backend-neutral terms.

    Built by the access policy for one identity and action. Every search backend MUST apply it
    inside the query itself, never by filtering hits afterwards, so that totals, facets and
    pages reveal nothing outside it.

    Each field is one dimension. ``None`` means "not limited by this dimension"; an empty set
    means "nothing passes". A document is visible only if it passes *every* dimension (the
    dimensions are AND-ed); a policy that needs a union (say, a department plus a few shared
    dossiers) expresses it through ``dossier_ids`` or a future extension.

    The set-valued fields compare exactly with the indexed values, after the same keyword
    normalisation the index applies (full-width/half-width, Traditional→Simplified, case).

    Attributes:
        departments: departments whose dossiers are visible (staff and managers).
        dossier_ids: individual dossiers that are visible (a complainant's own, a shared case).
        respondents: a regulator grant's saved filter: only complaints against these parties.
        categories: a grant's saved filter: only these complaint categories.
        received_from: a grant's saved filter: received on or after this date.
        received_until: a grant's saved filter: received on or before this date.
    """

    departments: frozenset[str] | None = None
    dossier_ids: frozenset[str] | None = None
    respondents: frozenset[str] | None = None
    categories: frozenset[str] | None = None
    received_from: date | None = None
    received_until: date | None = None

    @classmethod
    def everything(cls) -> AccessScope:
        """No limit at all: system jobs (reindex, verify) and archive administrators."""
        return cls()

    @classmethod
    def nothing(cls) -> AccessScope:
        """Sees no document; searching with it returns an empty page and zero counts."""
        return cls(dossier_ids=frozenset())

    @property
    def is_empty(self) -> bool:
        """True when no document can pass, whatever the index holds."""
        sets = (self.departments, self.dossier_ids, self.respondents, self.categories)
        if any(s is not None and not s for s in sets):
            return True
        return (self.received_from is not None and self.received_until is not None
                and self.received_from > self.received_until)
