"""The gateway: one door from a K-12 EdTech vendor's app to district systems.

LTI 1.3 launches, Clever OAuth and rostering, and grade writeback behind one vendor API.
"""

from __future__ import annotations

__version__ = "0.1.0"
