"""Configuration switches of the paper documents (config.yaml, section `paper`)."""

from __future__ import annotations

from app.base.settings import Settings


def qr_on_slips(conf: Settings) -> bool:
    """Whether slips may carry a QR code of the family's link (`paper.qr_on_slips`)."""
    return conf.paper_qr_on_slips
