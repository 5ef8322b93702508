"""Storage cost of a run's outputs under S3 Intelligent-Tiering.

Sizes use binary units: what AWS prices "per GB" is per GiB (2**30 bytes). The annual
range runs from everything in Archive Instant Access to everything in Frequent Access.
"""

from __future__ import annotations

from dataclasses import dataclass

GIB = 2**30
_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")


@dataclass(frozen=True)
class TierPrices:
    """USD per GiB-month for each Intelligent-Tiering access tier."""

    frequent: float = 0.021
    infrequent: float = 0.0125
    archive_instant: float = 0.004


@dataclass(frozen=True)
class StorageCost:
    """Annual cost of keeping `size_bytes` in each tier, and the range they span."""

    size_bytes: int
    frequent: float
    infrequent: float
    archive_instant: float

    @property
    def annual_low(self) -> float:
        return min(self.frequent, self.infrequent, self.archive_instant)

    @property
    def annual_high(self) -> float:
        return max(self.frequent, self.infrequent, self.archive_instant)


def annual_storage_cost(size_bytes: int, prices: TierPrices = TierPrices()) -> StorageCost:
    if size_bytes < 0:
        raise ValueError("size cannot be negative")
    gib_years = size_bytes / GIB * 12
    return StorageCost(
        size_bytes=size_bytes,
        frequent=gib_years * prices.frequent,
        infrequent=gib_years * prices.infrequent,
        archive_instant=gib_years * prices.archive_instant,
    )


def human_size(size_bytes: int) -> str:
    """`9876543210` -> `9.2 GiB`; whole bytes below 1 KiB (`512 B`)."""
    value = float(size_bytes)
    for unit in _UNITS:
        if abs(value) < 1024 or unit == _UNITS[-1]:
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def usd(amount: float) -> str:
    """`1234.5` -> `$1,234.50`; amounts under a cent show as `<$0.01`."""
    if 0 < amount < 0.005:
        return "<$0.01"
    return f"${amount:,.2f}"
